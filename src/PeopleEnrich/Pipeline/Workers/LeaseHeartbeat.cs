using System.Collections.Concurrent;
using PeopleEnrich.Pipeline.Queue;

namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// Keeps the leases of the items this process is working on, renewing them all in one statement every
/// <see cref="WorkerOptions.HeartbeatInterval"/>. When renewals have failed for as long as a lease, those items may be
/// another worker's by now: the work on them is abandoned (<see cref="HeldToken"/> is cancelled, so nothing is settled
/// twice or asked twice of a mail server) and a new token serves the items claimed after.
/// </summary>
public sealed class LeaseHeartbeat(ItemQueue queue, string owner, TimeProvider time, WorkerOptions settings, ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<(string BatchId, long Idx), ClaimedItem> _items = new();
    private readonly CancellationTokenSource _stop = new();
    private CancellationTokenSource _held = new();

    /// <summary>Cancelled when the items held now are abandoned: the stop's grace is over, or their leases may be lost.</summary>
    public CancellationToken HeldToken => Volatile.Read(ref _held).Token;

    public void Hold(ClaimedItem item) => _items[(item.BatchId, item.Idx)] = item;

    public void LetGo(ClaimedItem item) => _items.TryRemove((item.BatchId, item.Idx), out _);

    /// <summary>Gives up the work on every item held now.</summary>
    public void Abandon() => Interlocked.Exchange(ref _held, new CancellationTokenSource()).Cancel();

    public async Task RunAsync()
    {
        var renewed = time.GetTimestamp();
        while (true)
        {
            try
            {
                await Task.Delay(settings.HeartbeatInterval, time, _stop.Token);
                var items = _items.Values.ToList();
                if (items.Count > 0)
                {
                    await queue.RenewAsync(owner, items, settings.LeaseDuration, _stop.Token);
                }

                renewed = time.GetTimestamp();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not renew the leases of the items in flight");
                if (time.GetElapsedTime(renewed) >= settings.LeaseDuration)
                {
                    logger.LogError("No lease renewed for {Lease}: the items in flight may be other workers' now; their work is abandoned", settings.LeaseDuration);
                    Abandon();
                    renewed = time.GetTimestamp();
                }
            }
        }
    }

    public async Task StopAsync(Task running)
    {
        await _stop.CancelAsync();
        await running;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _held.Dispose();
    }
}
