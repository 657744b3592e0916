using System.Diagnostics.Metrics;
using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Telemetry;

namespace PeopleEnrich.Pipeline.Queue;

/// <summary>
/// The queue as the database holds it, for every process sharing it: how many items are ready, running (leased)
/// and put off, and how long the oldest ready item has waited for a worker (zero while workers keep up). Read on
/// a scrape, at most once per <see cref="Freshness"/> however many scrapers or instruments ask, from the rows
/// still PROCESSING only (the partial index items_ready).
/// </summary>
public sealed class QueueGauges(Database database, TimeProvider time, IMeterFactory meters, ILogger<QueueGauges> logger) : IHostedService
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private (QueueSnapshot? Snapshot, DateTimeOffset TakenAt) _last = (null, DateTimeOffset.MinValue);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The factory's meter lives and dies with this host, and with it the callbacks that read its database.
        var meter = meters.Create(Instruments.Name);
        meter.CreateObservableGauge("peopleenrich.queue.items", ItemsByState, "{item}",
            "Items not yet settled, by state: ready (claimable now), running (leased by a worker), put_off (waiting until later).");
        meter.CreateObservableGauge("peopleenrich.queue.oldest_ready_age", OldestReadyAge, "s",
            "How long the oldest ready item has waited for a worker; 0 when none waits.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<long>> ItemsByState() => Snapshot() is { } snapshot
        ?
        [
            new(snapshot.Ready, new KeyValuePair<string, object?>("state", "ready")),
            new(snapshot.Running, new KeyValuePair<string, object?>("state", "running")),
            new(snapshot.PutOff, new KeyValuePair<string, object?>("state", "put_off")),
        ]
        : [];

    private IEnumerable<Measurement<double>> OldestReadyAge() => Snapshot() is { } snapshot
        ? [new(snapshot.OldestReadyAt is { } oldest ? Math.Max(0, (snapshot.At - oldest) / 1000.0) : 0)]
        : [];

    private QueueSnapshot? Snapshot()
    {
        lock (_gate)
        {
            if (time.GetUtcNow() - _last.TakenAt < Freshness)
            {
                return _last.Snapshot;
            }

            // The exporter's callbacks are synchronous; one short read per few seconds may block a scrape's thread.
            using var deadline = new CancellationTokenSource(ReadTimeout);
            QueueSnapshot? snapshot = null;
            try
            {
                snapshot = ReadAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or OperationCanceledException)
            {
                // No figure is better than a stale one: the gauges are missing from this scrape, and /readyz says why.
                logger.LogWarning(exception, "Could not read the queue's depth for the metrics");
            }

            _last = (snapshot, time.GetUtcNow());
            return snapshot;
        }
    }

    private async Task<QueueSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition("""
            SELECT
                COALESCE(SUM(CASE WHEN leased = 0 AND available_at <= @now THEN 1 ELSE 0 END), 0) AS ready,
                COALESCE(SUM(leased), 0) AS running,
                COALESCE(SUM(CASE WHEN leased = 0 AND available_at > @now THEN 1 ELSE 0 END), 0) AS put_off,
                MIN(CASE WHEN leased = 0 AND available_at <= @now THEN available_at END) AS oldest_ready_at
            FROM (SELECT available_at, CASE WHEN lease_until >= @now THEN 1 ELSE 0 END AS leased
                  FROM items WHERE status = 'PROCESSING') AS waiting
            """, new { now }, cancellationToken: cancellationToken));
        return new QueueSnapshot(row.Ready, row.Running, row.PutOff, row.OldestReadyAt, now);
    }

    private sealed record QueueSnapshot(long Ready, long Running, long PutOff, long? OldestReadyAt, long At);

    private sealed class Row
    {
        public long Ready { get; init; }
        public long Running { get; init; }
        public long PutOff { get; init; }
        public long? OldestReadyAt { get; init; }
    }
}
