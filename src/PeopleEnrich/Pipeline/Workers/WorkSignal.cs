namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// In-process wake-ups: a submission wakes idle workers at once, a settled item wakes requests
/// waiting with "Prefer: wait". Work from other processes is found by polling every
/// <see cref="PollInterval"/>, so the signal is a shortcut, never needed for correctness.
/// </summary>
public sealed class WorkSignal
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Beacon _work = new();
    private readonly Beacon _progress = new();

    public void Pulse() => _work.Flash();

    public void ProgressMade() => _progress.Flash();

    public Task WaitForWorkAsync(TimeSpan atMost, CancellationToken cancellationToken) => _work.WaitAsync(atMost, cancellationToken);

    public Task WaitForProgressAsync(TimeSpan atMost, CancellationToken cancellationToken) => _progress.WaitAsync(atMost, cancellationToken);
}

/// <summary>A wake-up many may wait for: a flash releases every waiter of the moment; a wait also ends after its time.</summary>
public sealed class Beacon
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Flash() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task WaitAsync(TimeSpan atMost, CancellationToken cancellationToken)
    {
        try
        {
            await Volatile.Read(ref _next).Task.WaitAsync(atMost, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
