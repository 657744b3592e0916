using Dapper;

namespace PeopleEnrich.Storage.Retention;

/// <summary>
/// Rows of one kind that expire (a room's own tables, which only it knows): the sweep deletes them a few at a time,
/// so that what a setting says is no longer trusted is also no longer kept.
/// </summary>
public interface IExpiringRows
{
    /// <summary>What these rows are, for the log ("cached answers").</summary>
    string What { get; }

    /// <summary>Deletes at most about <paramref name="limit"/> expired rows in one transaction; returns how many (0: none is left).</summary>
    Task<int> DeleteExpiredAsync(int limit, CancellationToken cancellationToken);
}

/// <summary>
/// Rows of one table that expire by a condition over <c>@cutoff</c> (milliseconds since the epoch: now minus <paramref name="ttl"/>),
/// deleted by their physical row id (SQLite's rowid, PostgreSQL's ctid), whatever the table's key.
/// </summary>
public sealed class ExpiringTable(Database database, TimeProvider time, string what, string table, string expired, Func<TimeSpan> ttl) : IExpiringRows
{
    public string What => what;

    public Task<int> DeleteExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        var rowId = database.IsPostgres ? "ctid" : "rowid";
        var cutoff = (time.GetUtcNow() - ttl()).ToUnixTimeMilliseconds();
        return database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {table} WHERE {rowId} IN (SELECT {rowId} FROM {table} WHERE {expired} LIMIT @limit)",
            new { cutoff, limit }, transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
    }
}
