using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Cluster;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Privacy;
using PeopleEnrich.Telemetry;

namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// Claims items and runs each through the waterfall, up to <see cref="WorkerOptions.Concurrency"/>
/// at once (items of one batch run side by side). Leases carry this process's <see cref="WorkerIdentity"/>
/// and are short; a heartbeat keeps them while the process lives (<see cref="LeaseHeartbeat"/>), so a dead
/// process's items go to another within a lease, and a restarted one takes its own back at once.
/// A stop (SIGTERM, Ctrl-C) claims nothing more, gives the items in flight <see cref="WorkerOptions.ShutdownGrace"/>
/// and hands the rest back at once, their attempts not counted.
/// </summary>
public sealed class EnrichmentWorkers(
    ItemQueue queue,
    SourceWaterfall waterfall,
    ResultsCache cache,
    SuppressionList suppressions,
    BatchStore batches,
    WorkSignal signal,
    WorkerIdentity identity,
    ClusterLeases claims,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    IOptions<WorkerOptions> options,
    ILogger<EnrichmentWorkers> logger,
    IKnownBounces? bounces = null) : BackgroundService
{
    private static readonly TimeSpan ReapInterval = TimeSpan.FromSeconds(5);

    // Cut short by a timer, not awaited for ever: an item deaf to cancellation must not hold up the stop.
    private static readonly TimeSpan AbandonWait = TimeSpan.FromSeconds(5);

    public string Owner => identity.Id;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || !await ServerStartedAsync(stoppingToken))
        {
            return;
        }

        var (taken, released) = await TakeBackPreviousLifeAsync(stoppingToken);
        logger.LogInformation("Workers started as {Owner} with concurrency {Concurrency}, {SinceStart} ms after the process started; {Taken} items of this worker's previous run taken back, {Released} of its shared claims released",
            Owner, settings.Concurrency, SinceProcessStartMs(), taken, released);
        using var heartbeat = new LeaseHeartbeat(queue, Owner, time, settings, logger);
        var beating = heartbeat.RunAsync();
        var running = new ConcurrentDictionary<Task, bool>();
        try
        {
            await ClaimUntilStoppedAsync(settings, heartbeat, running, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await FinishInFlightAsync(settings, heartbeat, running);
        await heartbeat.StopAsync(beating);
        await HandBackAsync();
    }

    /// <summary>Claims begin once the server listens, so a start that fails (its port taken) has claimed nothing; false when stopped first.</summary>
    private async Task<bool> ServerStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(stoppingToken);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The items and the shared claims (session slots, domain lanes) of this worker's previous life, which died
    /// holding them: both at once, or the items taken back would wait for their claims to run out.
    /// </summary>
    private async Task<(int Items, int Claims)> TakeBackPreviousLifeAsync(CancellationToken stoppingToken)
    {
        try
        {
            var released = await claims.JoinAsAsync(Owner, stoppingToken);
            return (await queue.ExpireLeasesOfAsync(Owner, stoppingToken), released);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The database is away; the leases and claims will run out on their own.
            logger.LogWarning(exception, "Could not take back the items of this worker's previous run");
            return (0, 0);
        }
    }

    /// <summary>Items just taken over from workers whose leases ran out: their claims go too, so that the items wait for none.</summary>
    private async Task ReleaseClaimsOfDeadAsync(IReadOnlyList<ClaimedItem> claimed, CancellationToken stoppingToken)
    {
        foreach (var dead in claimed.Select(item => item.TakenOverFrom).OfType<string>().Where(owner => owner != Owner).Distinct())
        {
            try
            {
                if (await claims.ReleaseClaimsOfDeadAsync(dead, stoppingToken) is > 0 and var released)
                {
                    logger.LogWarning("Released {Count} shared claims of {Dead}, whose items were taken over", released, dead);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Could not release the shared claims of {Dead}; they run out by themselves", dead);
            }
        }
    }

    private async Task ClaimUntilStoppedAsync(WorkerOptions settings, LeaseHeartbeat heartbeat, ConcurrentDictionary<Task, bool> running, CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(settings.Concurrency);
        var nextReap = DateTimeOffset.MinValue;
        var idle = new IdleBackoff(settings.IdlePollInterval);
        var claimedBefore = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            await slots.WaitAsync(stoppingToken);
            var free = 1;
            while (free < settings.Concurrency && slots.Wait(0))
            {
                free++;
            }

            IReadOnlyList<ClaimedItem> claimed;
            signal.Looking();
            var woken = signal.NextWork;
            try
            {
                if (time.GetUtcNow() >= nextReap)
                {
                    nextReap = time.GetUtcNow() + ReapInterval;
                    if (await queue.FailAbandonedAsync(settings.MaxAttempts, stoppingToken) > 0)
                    {
                        signal.ProgressMade();
                    }
                }

                claimed = await queue.ClaimAsync(Owner, free, settings.LeaseDuration, settings.MaxAttempts, stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database is away: keep the slots, wait, try again. Nothing is lost meanwhile.
                slots.Release(free);
                logger.LogError(exception, "Could not claim work; retrying");
                await Task.Delay(WorkSignal.PollInterval, stoppingToken);
                continue;
            }

            if (free > claimed.Count)
            {
                slots.Release(free - claimed.Count);
            }

            await ReleaseClaimsOfDeadAsync(claimed, stoppingToken);
            if (claimed.Count > 0 && !claimedBefore)
            {
                // How long a restart keeps a worker from work: start-up, migration check, taking back, the first claim.
                claimedBefore = true;
                logger.LogInformation("First items claimed: {Count}, {SinceStart} ms after the process started", claimed.Count, SinceProcessStartMs());
            }

            foreach (var item in claimed)
            {
                heartbeat.Hold(item);
                var task = ProcessAsync(item, settings, heartbeat.HeldToken);
                running[task] = true;
                _ = task.ContinueWith(t =>
                {
                    heartbeat.LetGo(item);
                    running.TryRemove(t, out _);
                    slots.Release();
                }, TaskScheduler.Default);
            }

            if (claimed.Count > 0 || await WaitIdleAsync(await UntilNextLookAsync(idle.Next(), settings, stoppingToken), woken, stoppingToken))
            {
                idle.Reset();
            }
        }
    }

    /// <summary>
    /// The back-off's wait, cut short to when the earliest put-off item is due (a greylisting round, an outage's retry,
    /// put off by any process): nothing wakes a worker at that moment, and a round started at the next look would start
    /// seconds late. Read from the database at each idle look, so an item another process put off counts too.
    /// </summary>
    private async Task<TimeSpan> UntilNextLookAsync(TimeSpan backoff, WorkerOptions settings, CancellationToken stoppingToken)
    {
        try
        {
            if (await queue.NextPutOffDueAsync(settings.MaxAttempts, stoppingToken) is { } due && due - time.GetUtcNow() is var untilDue && untilDue < backoff)
            {
                return untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The claim just worked; should this read fail, the back-off's look still finds the item, later.
            logger.LogWarning(exception, "Could not read when the next put-off item is due; looking again in {Wait}", backoff);
        }

        return backoff;
    }

    /// <summary>True when woken (work was queued, here or in another process), false when <paramref name="wait"/> passed.</summary>
    private Task<bool> WaitIdleAsync(TimeSpan wait, Task woken, CancellationToken stoppingToken)
    {
        signal.WaitingUntil(time.GetUtcNow() + wait);
        // The wait's timer is set before the line is written: a test stepping a fake clock by each logged wait relies on it.
        var waiting = Beacon.WaitAsync(woken, wait, time, stoppingToken);
        logger.LogDebug("No work to claim; looking again in {Wait} unless woken", wait);
        return waiting;
    }

    /// <summary>The items in flight get the grace to finish; then the rest are abandoned, to be handed back.</summary>
    private async Task FinishInFlightAsync(WorkerOptions settings, LeaseHeartbeat heartbeat, ConcurrentDictionary<Task, bool> running)
    {
        if (running.IsEmpty)
        {
            return;
        }

        logger.LogInformation("Stopping: {Count} items in flight get {Grace} to finish", running.Count, settings.ShutdownGrace);
        if (!await AllEndAsync(running, settings.ShutdownGrace))
        {
            heartbeat.Abandon();
            await AllEndAsync(running, AbandonWait);
        }
    }

    private async Task<bool> AllEndAsync(ConcurrentDictionary<Task, bool> running, TimeSpan within)
    {
        try
        {
            await Task.WhenAll(running.Keys).WaitAsync(within, time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task HandBackAsync()
    {
        try
        {
            var released = await queue.ReleaseHeldAsync(Owner, CancellationToken.None);
            if (released > 0)
            {
                logger.LogInformation("Stopped: {Count} unfinished items handed back to the queue, their attempts not counted", released);
                signal.Pulse();
            }
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Could not hand back the unfinished items; they return when their leases run out");
        }
    }

    private async Task ProcessAsync(ClaimedItem item, WorkerOptions settings, CancellationToken held)
    {
        await Task.Yield();
        // Every line logged while working on the item says which it is (the waterfall's and the sources' too).
        using var scope = logger.BeginScope("Request {RequestId} item {ItemIndex}", item.BatchId, item.Idx);
        var traceParent = await TraceParentAsync(item, held);
        using var span = StartItemSpan(item, traceParent);
        if (item.TakenOverFrom is { } previousOwner)
        {
            logger.LogWarning("Took over item {Batch}/{Index} (attempt {Attempt}) from {PreviousOwner}, whose lease ran out", item.BatchId, item.Idx, item.Attempts, previousOwner);
        }

        // Abandoned (the stop's grace is over, or the leases may be lost): stop working on it without settling.
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(held);
        attempt.CancelAfter(settings.MaxItemTime);
        try
        {
            var result = await LookUpAsync(item, attempt.Token);
            var retryDelay = RetryDelay(settings, item.Attempts);
            var settled = result switch
            {
                WaterfallResult.Completed completed => await queue.CompleteAsync(item, Owner, completed.Outcome, attempt.Token),
                WaterfallResult.AllSourcesFailed { Retryable: true } failed => PutOff(await queue.ReleaseAfterFailureAsync(
                    item, Owner, failed.Error, settings.MaxAttempts, retryDelay, attempt.Token), retryDelay),
                WaterfallResult.AllSourcesFailed failed => await queue.FailAsync(item, Owner, failed.Error, attempt.Token),
                WaterfallResult.Deferred deferred => PutOff(await queue.DeferAsync(item, Owner, deferred.Reason, deferred.RetryAfter, attempt.Token), deferred.RetryAfter),
                WaterfallResult.OutageDeferred outage => PutOff(
                    await queue.DeferAfterOutageAsync(item, Owner, outage.Reason, outage.RetryAfter, attempt.Token), outage.RetryAfter),
                _ => throw new InvalidOperationException("Unknown waterfall result."),
            };
            span?.SetTag("peopleenrich.result", result.GetType().Name);
            logger.LogDebug("Item {Batch}/{Index} attempt {Attempt}: {Result}", item.BatchId, item.Idx, item.Attempts, result.GetType().Name);
            if (!settled)
            {
                logger.LogWarning("Item {Batch}/{Index} was no longer leased to this worker; its result was dropped", item.BatchId, item.Idx);
            }

            signal.ProgressMade();
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
            // Abandoned: handed back by the stop, or already another worker's.
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested)
        {
            await ReleaseAsync(item, settings, $"the item took longer than Workers:MaxItemTime ({settings.MaxItemTime})");
        }
        catch (Exception exception)
        {
            span?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            logger.LogError(exception, "Item {Batch}/{Index} failed on attempt {Attempt}", item.BatchId, item.Idx, item.Attempts);
            await ReleaseAsync(item, settings, "internal error while processing the item");
        }
    }

    private async Task ReleaseAsync(ClaimedItem item, WorkerOptions settings, string error)
    {
        try
        {
            var retryDelay = RetryDelay(settings, item.Attempts);
            PutOff(await queue.ReleaseAfterFailureAsync(item, Owner, error, settings.MaxAttempts, retryDelay, CancellationToken.None), retryDelay);
            signal.ProgressMade();
        }
        catch (Exception releaseException)
        {
            logger.LogError(releaseException, "Could not release item {Batch}/{Index}; its lease will expire", item.BatchId, item.Idx);
        }
    }

    /// <summary>Tells the claim loop when an item put back (<paramref name="putBack"/>) is due again: <paramref name="retryAfter"/> from now.</summary>
    private bool PutOff(bool putBack, TimeSpan retryAfter)
    {
        if (putBack)
        {
            signal.PutOff(time.GetUtcNow() + retryAfter);
        }

        return putBack;
    }

    /// <summary>The submitting request's span, when traces are exported and the request was traced.</summary>
    private async Task<ActivityContext> TraceParentAsync(ClaimedItem item, CancellationToken cancellationToken)
    {
        if (!Instruments.Traces.HasListeners())
        {
            return default;
        }

        try
        {
            var traceParent = await batches.TraceParentAsync(item.BatchId, cancellationToken);
            return ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var parent) ? parent : default;
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or OperationCanceledException)
        {
            // A span without its parent is still worth having; the item is not to wait for it.
            logger.LogWarning(exception, "Could not read the trace of request {Batch}", item.BatchId);
            return default;
        }
    }

    /// <summary>
    /// The item's span, a child of the request that submitted it (however much later, in whichever process), so that a
    /// trace runs from the POST through each attempt to every source asked. Started here, not in an async helper, so
    /// that it is the current span of everything below.
    /// </summary>
    private static Activity? StartItemSpan(ClaimedItem item, ActivityContext parent)
    {
        var span = Instruments.Traces.StartActivity("enrich item", ActivityKind.Consumer, parent);
        span?.SetTag("peopleenrich.request_id", item.BatchId);
        span?.SetTag("peopleenrich.item_index", item.Idx);
        span?.SetTag("peopleenrich.attempt", item.Attempts);
        return span;
    }

    /// <summary>
    /// Suppressions first (a person or domain that opted out is asked of no source); then the cache; then the waterfall,
    /// whose whole answers are kept for the next time. An answer holding a suppressed address is that person's: it is
    /// neither returned nor kept.
    /// </summary>
    private async Task<WaterfallResult> LookUpAsync(ClaimedItem item, CancellationToken cancellationToken)
    {
        var suppressed = await suppressions.ForAsync(item.Person, cancellationToken);
        if (suppressed.Covering is { } covering)
        {
            return Suppressed(covering.Error);
        }

        var asked = Stopwatch.GetTimestamp();
        var cached = await cache.FindAsync(item.Person, item.AskedFields, cancellationToken);
        if (cached is not null && await HoldsBouncedAddressAsync(cached, cancellationToken))
        {
            // Reported to bounce after it was cached (a report forgets such answers; one cached while it was made escapes that).
            cached = null;
        }

        Instruments.SourceAsked("cache", cached is null ? SourceOutcome.Empty : SourceOutcome.Found, Stopwatch.GetElapsedTime(asked));
        if (cached is not null)
        {
            return await UnlessSuppressedAsync(new WaterfallResult.Completed(cached), suppressed, cancellationToken);
        }

        var result = await UnlessSuppressedAsync(
            await waterfall.RunAsync(item.Person, item.AskedFields, cancellationToken, (int)item.Deferrals, (int)item.OutageRetries, failedAttempts: (int)item.Attempts - 1), suppressed, cancellationToken);
        if (result is WaterfallResult.Completed { Cacheable: true } completed)
        {
            try
            {
                await cache.StoreAsync(item.Person, item.AskedFields, completed.Outcome, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The answer itself is sound; only its reuse is lost.
                logger.LogWarning(exception, "Could not cache the answer for item {Batch}/{Index}", item.BatchId, item.Idx);
            }
        }

        return result;
    }

    private async Task<bool> HoldsBouncedAddressAsync(EnrichmentOutcome answer, CancellationToken cancellationToken) =>
        bounces is not null
        && answer.Emails.Where(e => EmailStatus.CountsAsFound(e.Status)).Select(e => e.Email).ToList() is { Count: > 0 } found
        && (await bounces.AmongAsync(found, cancellationToken)).Count > 0;

    private static async Task<WaterfallResult> UnlessSuppressedAsync(WaterfallResult result, PersonSuppressions suppressions, CancellationToken cancellationToken) =>
        result is WaterfallResult.Completed completed
        && (await suppressions.SuppressedAmongAsync(completed.Outcome.Emails.Select(e => e.Email).ToList(), cancellationToken)).Count > 0
            ? Suppressed(Suppression.PersonsRequest)
            : result;

    /// <summary>No email, no phone, nothing charged, nothing cached, and the reason said.</summary>
    private static WaterfallResult.Completed Suppressed(string error) => new(new EnrichmentOutcome([], null, []) { Error = error });

    /// <summary>Wall-clock milliseconds since the operating system started this process (the runtime's own start-up included).</summary>
    private long SinceProcessStartMs()
    {
        using var self = Process.GetCurrentProcess();
        return (long)(time.GetUtcNow() - self.StartTime.ToUniversalTime()).TotalMilliseconds;
    }

    private static TimeSpan RetryDelay(WorkerOptions settings, long attempts)
    {
        var delay = settings.RetryDelay * Math.Pow(2, Math.Max(0, attempts - 1));
        return delay > settings.MaxRetryDelay ? settings.MaxRetryDelay : delay;
    }
}
