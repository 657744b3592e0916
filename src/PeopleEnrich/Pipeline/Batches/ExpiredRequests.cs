using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>
/// Requests whose every item completed more than <see cref="RetentionOptions.Results"/> ago: deleted whole, the
/// batch with its items (who was asked about, and the answers). The ledger keeps its entries (amounts, kinds, times,
/// request ids: no personal data), so that credits stay explained. A request with an item still in work is kept.
/// </summary>
public sealed class ExpiredRequests(Database database, TimeProvider time, IOptions<RetentionOptions> options) : IExpiringRows
{
    /// <summary>A batch holds at most this many items: the sweep's rows per transaction are items, not batches.</summary>
    private const int MaxItemsPerBatch = 100;

    public string What => "requests and their answers";

    public Task<int> DeleteExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        var cutoff = (time.GetUtcNow() - options.Value.Results).ToUnixTimeMilliseconds();
        return database.InTransactionAsync(async (connection, transaction) =>
        {
            var ids = (await connection.QueryAsync<string>(new CommandDefinition("""
                SELECT b.id FROM batches b
                WHERE b.created_at < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM items i WHERE i.batch_id = b.id AND (i.completed_at IS NULL OR i.completed_at >= @cutoff))
                LIMIT @batches
                """, new { cutoff, batches = Math.Max(1, limit / MaxItemsPerBatch) }, transaction, cancellationToken: cancellationToken))).ToArray();
            if (ids.Length == 0)
            {
                return 0;
            }

            var items = await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM items WHERE batch_id {database.InAny("ids")}", new { ids }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM batches WHERE id {database.InAny("ids")}", new { ids }, transaction, cancellationToken: cancellationToken));
            return items + ids.Length;
        }, cancellationToken);
    }
}
