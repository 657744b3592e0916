using System.Collections.Concurrent;

namespace PeopleEnrich.Storage;

/// <summary>
/// Wake-ups between processes on PostgreSQL: one connection LISTENs on every channel a room registered (<see cref="On"/>)
/// and runs that room's in-process wake-up when another process (or this one) NOTIFYs it in a committed transaction
/// (<see cref="Database.NotifyAsync"/>). So an idle worker learns of work another process queued at once, not at its
/// next poll. A shortcut, never needed for correctness: the pollers still look now and then, and after the listening
/// connection broke every channel is woken once (what was notified meanwhile was lost). A connection that goes silent
/// (a NAT that forgot it, a failover) breaks too: its keepalive goes unanswered (<see cref="Database.ListenAsync"/>).
/// Nothing runs on SQLite, one process, whose wake-ups are in-process already.
/// </summary>
public sealed class DatabaseWakeups(Database database, TimeProvider time, ILogger<DatabaseWakeups> logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectAfter = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Action> _channels = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs <paramref name="wake"/> on each notification of <paramref name="channel"/>: registered before the host starts
    /// (as singletons' constructors do), when the listener LISTENs. Cheap and non-blocking, it runs on the listener's loop.
    /// </summary>
    public void On(string channel, Action wake) => _channels.AddOrUpdate(channel, wake, (_, earlier) => earlier + wake);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!database.IsPostgres || _channels.IsEmpty)
        {
            return;
        }

        var channels = _channels.Keys.ToList();
        var lost = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Once listening, everything is woken: what was queued before (or while the connection was down) is looked for now.
                await database.ListenAsync(channels, () =>
                {
                    if (lost)
                    {
                        logger.LogInformation("Listening for other processes' work again");
                        lost = false;
                    }

                    WakeAll();
                }, Wake, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping (a start that failed, too): whatever the cancelled connection threw is the stop, not a lost connection.
                return;
            }
            catch (Exception exception)
            {
                lost = true;
                logger.LogWarning(exception, "Lost the connection listening for other processes' work; listening again in {Delay} (meanwhile they are found by polling)", ReconnectAfter);
                try
                {
                    await Task.Delay(ReconnectAfter, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Wake(string channel)
    {
        if (_channels.TryGetValue(channel, out var wake))
        {
            wake();
        }
    }

    private void WakeAll()
    {
        foreach (var wake in _channels.Values)
        {
            wake();
        }
    }
}
