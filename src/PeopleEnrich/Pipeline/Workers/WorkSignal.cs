using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// Wake-ups: a submission wakes idle workers at once, a settled item wakes requests waiting with "Prefer: wait".
/// Work queued by other processes wakes them through the database (<see cref="Channel"/>, on PostgreSQL); idle
/// workers still look now and then (<see cref="IdleBackoff"/>), and when the earliest put-off item is due (read at each
/// look), so a lost wake-up costs time, never an item.
/// </summary>
public sealed class WorkSignal
{
    /// <summary>NOTIFYed in the transaction that makes items claimable now (a submission, a stop's hand-back).</summary>
    public const string Channel = "peopleenrich_items";

    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Beacon _work = new();
    private readonly Beacon _progress = new();

    private readonly TimeProvider _time;

    // The claim loop's next look, in UTC ticks; long.MaxValue while it is looking.
    private long _nextLook = long.MaxValue;

    public WorkSignal(DatabaseWakeups wakeups, TimeProvider time)
    {
        _time = time;
        wakeups.On(Channel, Pulse);
    }

    public void Pulse() => _work.Flash();

    /// <summary>
    /// An item was put off here until <paramref name="due"/>: the claim loop is woken when that is sooner than its next look
    /// (a wait it began before the item was put off), or when it is looking now (its look may have missed the item), so
    /// that it learns the time. Otherwise its next look reads it.
    /// </summary>
    public void PutOff(DateTimeOffset due)
    {
        if (due.UtcTicks < Volatile.Read(ref _nextLook))
        {
            _work.Flash();
        }
    }

    /// <summary>The claim loop is looking for work (and when it is due) now.</summary>
    public void Looking() => Volatile.Write(ref _nextLook, long.MaxValue);

    /// <summary>The claim loop found no work and waits until <paramref name="nextLook"/>, unless woken.</summary>
    public void WaitingUntil(DateTimeOffset nextLook) => Volatile.Write(ref _nextLook, nextLook.UtcTicks);

    public void ProgressMade() => _progress.Flash();

    /// <summary>The next wake-up: taken before looking for work, so that one that comes while looking is not missed.</summary>
    public Task NextWork => _work.NextFlash;

    public Task WaitForProgressAsync(TimeSpan atMost, CancellationToken cancellationToken) => _progress.WaitAsync(atMost, _time, cancellationToken);
}

/// <summary>A wake-up many may wait for: a flash releases every waiter of the moment; a wait also ends after its time.</summary>
public sealed class Beacon
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Flash() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Completes at the next flash.</summary>
    public Task NextFlash => Volatile.Read(ref _next).Task;

    public Task<bool> WaitAsync(TimeSpan atMost, TimeProvider time, CancellationToken cancellationToken) => WaitAsync(NextFlash, atMost, time, cancellationToken);

    /// <summary>
    /// True when <paramref name="flash"/> (a <see cref="NextFlash"/> taken earlier) came, false when <paramref name="atMost"/>
    /// passed on <paramref name="time"/>'s clock (<see cref="Timeout.InfiniteTimeSpan"/>: only a flash or the token ends the wait).
    /// </summary>
    public static async Task<bool> WaitAsync(Task flash, TimeSpan atMost, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await flash.WaitAsync(atMost, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}

/// <summary>
/// How long an idle worker waits before it looks for work again: 0.5, 1, 2, 4 s, then every <see cref="WorkerOptions.IdlePollInterval"/>;
/// anything found, or any wake-up, starts it again at 0.5 s. An idle process costs a claim every few seconds, not two a second.
/// A wait ends sooner when a put-off item is due before it would (<see cref="EnrichmentWorkers"/>).
/// </summary>
public sealed class IdleBackoff(TimeSpan longest)
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LastDoubled = TimeSpan.FromSeconds(4);

    private TimeSpan _next = First;

    /// <summary>The wait before the next look, lengthening the one after.</summary>
    public TimeSpan Next()
    {
        var wait = _next < longest ? _next : longest;
        _next = _next >= LastDoubled ? longest : _next * 2;
        return wait;
    }

    public void Reset() => _next = First;
}
