using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Cluster;

/// <summary>
/// Turns spaced in time across every process on the database: at most <c>burst</c> at once, then one every
/// <c>interval</c> (the generic cell rate algorithm). One row per name holds the theoretical time of the next turn;
/// each taker moves it on by one interval in a single atomic UPSERT and waits until its own turn comes.
/// </summary>
/// <remarks>
/// A turn is reserved only when it comes within <see cref="Horizon"/>: a crowd of waiters that gives up (a request's
/// time-out) wastes at most that much of everyone's rate, instead of pushing the next turn far into the future.
/// Times are each process's own clock: processes on different machines need their clocks in sync (NTP).
/// </remarks>
public sealed class ClusterPacer(Database database, TimeProvider time)
{
    /// <summary>How far ahead a turn may be reserved.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Reserves the next turn of <paramref name="name"/> if it comes within <see cref="Horizon"/>, and returns how long
    /// to wait for it (zero: now); null, with nothing reserved, when it is further off.
    /// </summary>
    public async Task<TimeSpan?> TryReserveAsync(string name, TimeSpan interval, int burst, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var step = Step(interval);
        var early = (Math.Max(1, burst) - 1) * step;
        var next = await database.WriteOnceAsync((connection, transaction) => connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO cluster_pacing (name, next_at) VALUES (@name, @now + @step)
            ON CONFLICT (name) DO UPDATE SET next_at = CASE WHEN cluster_pacing.next_at > @now THEN cluster_pacing.next_at ELSE @now END + @step
            WHERE cluster_pacing.next_at - @early - @now <= @horizon
            RETURNING next_at
            """, new { name, now, step, early, horizon = (long)Horizon.TotalMilliseconds }, transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
        // This turn is one step before the new next; a burst lets it come that many steps early, never before now.
        return next is { } reserved ? TimeSpan.FromMilliseconds(Math.Max(0, reserved - step - early - now)) : null;
    }

    /// <summary>Takes the next turn of <paramref name="name"/>, waiting as long as it takes.</summary>
    public async Task WaitTurnAsync(string name, TimeSpan interval, int burst, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryReserveAsync(name, interval, burst, cancellationToken) is { } wait)
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }

                return;
            }

            // The queue is more than the horizon long: come back when it may have moved, spread out.
            var step = TimeSpan.FromMilliseconds(Step(interval));
            await Task.Delay((step < Horizon ? step : Horizon) * (0.5 + Random.Shared.NextDouble()), time, cancellationToken);
        }
    }

    private static long Step(TimeSpan interval) => Math.Max(1, (long)Math.Ceiling(interval.TotalMilliseconds));
}
