using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>A place in an account's list of requests: the last one of a page, in the order (created_at, id) descending.</summary>
public sealed record BatchPosition(long CreatedAt, string Id);

/// <summary>One request of an account's list, with its progress.</summary>
public sealed record BatchSummary(string Id, long ItemCount, long ProcessingCount, long FailedCount, long CreatedAt)
{
    /// <summary>Items that left PROCESSING, completed or failed.</summary>
    public long DoneCount => ItemCount - ProcessingCount;

    public string Status => ProcessingCount > 0 ? ItemStatus.Processing : FailedCount == ItemCount ? ItemStatus.Failed : ItemStatus.Completed;
}

/// <summary>An account's requests, newest first, by keyset pages; ownership is part of the query.</summary>
public sealed class BatchListing(Database database)
{
    /// <summary>Up to <paramref name="limit"/> requests after <paramref name="after"/>, and whether more follow.</summary>
    public async Task<(IReadOnlyList<BatchSummary> Page, bool More)> ListAsync(string accountId, int limit, BatchPosition? after, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition($"""
            SELECT b.id, b.item_count, b.created_at,
                   (SELECT COUNT(*) FROM items i WHERE i.batch_id = b.id AND i.status = '{ItemStatus.Processing}') AS processing_count,
                   (SELECT COUNT(*) FROM items i WHERE i.batch_id = b.id AND i.status = '{ItemStatus.Failed}') AS failed_count
            FROM batches b
            WHERE b.account_id = @accountId
              AND (@afterId IS NULL OR b.created_at < @afterCreatedAt OR (b.created_at = @afterCreatedAt AND b.id < @afterId))
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT @take
            """, new { accountId, afterCreatedAt = after?.CreatedAt ?? 0L, afterId = after?.Id, take = limit + 1 }, cancellationToken: cancellationToken)))
            .Select(r => new BatchSummary(r.Id, r.ItemCount, r.ProcessingCount, r.FailedCount, r.CreatedAt)).ToList();
        return rows.Count > limit ? (rows[..limit], true) : (rows, false);
    }

    private sealed class Row
    {
        public string Id { get; init; } = "";
        public long ItemCount { get; init; }
        public long CreatedAt { get; init; }
        public long ProcessingCount { get; init; }
        public long FailedCount { get; init; }
    }
}
