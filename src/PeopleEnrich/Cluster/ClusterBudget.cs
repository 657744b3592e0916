using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Cluster;

/// <summary>At most <paramref name="Max"/> units in any <paramref name="Window"/> (60 a minute, 10,000 a day).</summary>
public sealed record BudgetLimit(int Max, TimeSpan Window);

/// <summary>A unit was spent (<see cref="Taken"/>), or the budget is spent and frees a unit in about <see cref="RetryAfter"/>, by <see cref="Limit"/>.</summary>
public sealed record BudgetAnswer(bool Taken, TimeSpan RetryAfter, BudgetLimit? Limit)
{
    public static BudgetAnswer Granted { get; } = new(true, TimeSpan.Zero, null);
}

/// <summary>
/// Budgets over sliding windows, spent by every process on the database together. Each window is counted in 60
/// buckets (a second each for a minute, 24 minutes each for a day); a unit is granted only when every bucket that
/// overlaps the last window, the oldest one whole, leaves room, so the limit holds over any window of that length,
/// with up to a bucket's worth of margin. The budget's row is locked while one process checks and spends, so two
/// never spend the last unit twice.
/// </summary>
public sealed class ClusterBudget(Database database, TimeProvider time)
{
    private const int BucketsPerWindow = 60;

    /// <summary>Spends one unit of <paramref name="name"/> if every limit leaves room; else says which limit is spent and for how long.</summary>
    public Task<BudgetAnswer> TryTakeAsync(string name, IReadOnlyList<BudgetLimit> limits, CancellationToken cancellationToken) =>
        RunAsync(name, limits, spend: true, cancellationToken);

    /// <summary>Whether a unit of <paramref name="name"/> could be spent now, spending nothing.</summary>
    public Task<BudgetAnswer> CheckAsync(string name, IReadOnlyList<BudgetLimit> limits, CancellationToken cancellationToken) =>
        RunAsync(name, limits, spend: false, cancellationToken);

    private Task<BudgetAnswer> RunAsync(string name, IReadOnlyList<BudgetLimit> limits, bool spend, CancellationToken cancellationToken) =>
        limits.Count == 0 ? Task.FromResult(BudgetAnswer.Granted) : database.InTransactionAsync(async (connection, transaction) =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            // Locks the budget's row until commit: the check and the spending below are one step for the cluster.
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO cluster_budgets (name, touched_at) VALUES (@name, @now)
                ON CONFLICT (name) DO UPDATE SET touched_at = excluded.touched_at
                """, new { name, now }, transaction, cancellationToken: cancellationToken));
            foreach (var limit in limits)
            {
                var (windowMs, size) = Buckets(limit);
                var current = now / size;
                var spent = await connection.QueryAsync<(long Bucket, long Spent)>(new CommandDefinition(
                    "SELECT bucket, spent FROM cluster_budget_spent WHERE name = @name AND window_ms = @windowMs AND bucket >= @oldest ORDER BY bucket",
                    new { name, windowMs, oldest = current - BucketsPerWindow }, transaction, cancellationToken: cancellationToken));
                var buckets = spent.ToList();
                if (buckets.Sum(b => b.Spent) >= limit.Max)
                {
                    return new BudgetAnswer(false, FreesIn(buckets, limit.Max, current, size, now), limit);
                }
            }

            foreach (var limit in limits.Where(_ => spend))
            {
                var (windowMs, size) = Buckets(limit);
                var current = now / size;
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO cluster_budget_spent (name, window_ms, bucket, spent) VALUES (@name, @windowMs, @current, 1)
                    ON CONFLICT (name, window_ms, bucket) DO UPDATE SET spent = cluster_budget_spent.spent + 1
                    """, new { name, windowMs, current }, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM cluster_budget_spent WHERE name = @name AND window_ms = @windowMs AND bucket < @oldest",
                    new { name, windowMs, oldest = current - BucketsPerWindow }, transaction, cancellationToken: cancellationToken));
            }

            return BudgetAnswer.Granted;
        }, cancellationToken, durable: false);

    /// <summary>The window in milliseconds and the size of one of its buckets.</summary>
    private static (long WindowMs, long Size) Buckets(BudgetLimit limit)
    {
        var windowMs = Math.Max(BucketsPerWindow, (long)limit.Window.TotalMilliseconds);
        return (windowMs, windowMs / BucketsPerWindow);
    }

    /// <summary>When enough of the oldest buckets have left the window for one unit to fit again.</summary>
    private static TimeSpan FreesIn(IReadOnlyList<(long Bucket, long Spent)> buckets, int max, long current, long size, long now)
    {
        var total = buckets.Sum(b => b.Spent);
        foreach (var (bucket, spent) in buckets)
        {
            total -= spent;
            if (total < max)
            {
                // This bucket stops counting once the current bucket is BucketsPerWindow past it.
                var leavesAt = (bucket + BucketsPerWindow + 1) * size;
                return TimeSpan.FromMilliseconds(Math.Max(1, leavesAt - now));
            }
        }

        return TimeSpan.FromMilliseconds(size);
    }
}
