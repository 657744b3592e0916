using System.Data.Common;
using System.Reflection;
using Dapper;

namespace PeopleEnrich.Storage;

/// <summary>
/// Applies the numbered scripts in Storage/Migrations once each, in order, recording them in
/// schema_migrations. Several processes may start at once: PostgreSQL serialises them with an
/// advisory lock, SQLite with its write lock. An up-to-date database (every start but the first after an
/// upgrade) is recognised in one read without either lock, so that processes restarting together after a
/// crash do not queue behind one another.
/// </summary>
public sealed class Migrator(Database database, TimeProvider time, ILogger<Migrator> logger)
{
    /// <summary>The PostgreSQL advisory lock that migrating processes take in turn ("People").</summary>
    internal const long AdvisoryLockKey = 0x5065_6F70_6C65;
    private const string Prefix = "PeopleEnrich.Storage.Migrations.";

    /// <summary>The scripts embedded in this build, in the order they apply.</summary>
    private static readonly IReadOnlyList<(string Name, string Resource)> Scripts = Assembly.GetExecutingAssembly().GetManifestResourceNames()
        .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
        .Select(name => (Name: name[Prefix.Length..^".sql".Length], Resource: name))
        .OrderBy(script => script.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>The few words the two providers spell differently.</summary>
    private string Dialect(string sql) => database.IsPostgres
        ? sql.Replace("{{BLOB}}", "BYTEA").Replace("{{IDENTITY}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
        : sql.Replace("{{BLOB}}", "BLOB").Replace("{{IDENTITY}}", "INTEGER PRIMARY KEY AUTOINCREMENT");

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (!database.IsPostgres)
        {
            // Kept in the file: a no-op, without any lock, on a file already in WAL mode (any this program created).
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode = WAL", cancellationToken: cancellationToken));
        }

        if (await IsUpToDateAsync(connection, cancellationToken))
        {
            logger.LogDebug("{Database} is up to date ({Count} migrations)", database.Description, Scripts.Count);
            return;
        }

        if (database.IsPostgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        }

        try
        {
            await ApplyPendingAsync(connection, cancellationToken);
        }
        finally
        {
            if (database.IsPostgres)
            {
                await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }, cancellationToken: CancellationToken.None));
            }
        }
    }

    /// <summary>
    /// One read, no lock: every script of this build is recorded. A database not yet created (no schema_migrations),
    /// or one whose read fails for any other reason, is not: the locked path creates it, or says what is wrong.
    /// </summary>
    private static async Task<bool> IsUpToDateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        IEnumerable<string> applied;
        try
        {
            applied = await connection.QueryAsync<string>(new CommandDefinition("SELECT name FROM schema_migrations", cancellationToken: cancellationToken));
        }
        catch (DbException)
        {
            return false;
        }

        var recorded = applied.ToHashSet(StringComparer.Ordinal);
        return Scripts.All(script => recorded.Contains(script.Name));
    }

    /// <summary>Under the lock, each script is checked again: another process may have applied it since the read.</summary>
    private async Task ApplyPendingAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            cancellationToken: cancellationToken));
        foreach (var (name, resource) in Scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var applied = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM schema_migrations WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken));
            if (applied > 0)
            {
                continue;
            }

            await using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            var sql = Dialect(await reader.ReadToEndAsync(cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (@name, @at)",
                new { name, at = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Migration} on {Database}", name, database.Description);
        }
    }
}
