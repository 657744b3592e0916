using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Privacy;
using PeopleEnrich.Telemetry;

namespace PeopleEnrich.Pipeline.Workers;

/// <summary>
/// Claims items and runs each through the waterfall, up to <see cref="WorkerOptions.Concurrency"/>
/// at once (items of one batch run side by side). Each process has its own owner name, so leases
/// show who holds what when several processes share one PostgreSQL.
/// </summary>
public sealed class EnrichmentWorkers(
    ItemQueue queue,
    SourceWaterfall waterfall,
    ResultsCache cache,
    SuppressionList suppressions,
    BatchStore batches,
    WorkSignal signal,
    TimeProvider time,
    IOptions<WorkerOptions> options,
    ILogger<EnrichmentWorkers> logger) : BackgroundService
{
    private static readonly TimeSpan ReapInterval = TimeSpan.FromSeconds(5);

    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        var slots = new SemaphoreSlim(settings.Concurrency);
        var running = new ConcurrentDictionary<Task, bool>();
        var nextReap = DateTimeOffset.MinValue;
        logger.LogInformation("Workers started as {Owner} with concurrency {Concurrency}", Owner, settings.Concurrency);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < settings.Concurrency && slots.Wait(0))
                {
                    free++;
                }

                IReadOnlyList<ClaimedItem> claimed;
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

                foreach (var item in claimed)
                {
                    var task = ProcessAsync(item, settings, stoppingToken);
                    running[task] = true;
                    _ = task.ContinueWith(t =>
                    {
                        running.TryRemove(t, out _);
                        slots.Release();
                    }, TaskScheduler.Default);
                }

                if (claimed.Count == 0)
                {
                    await signal.WaitForWorkAsync(WorkSignal.PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Unfinished items keep their leases and return to the queue when those run out.
        await Task.WhenAll(running.Keys);
    }

    private async Task ProcessAsync(ClaimedItem item, WorkerOptions settings, CancellationToken stoppingToken)
    {
        await Task.Yield();
        // Every line logged while working on the item says which it is (the waterfall's and the sources' too).
        using var scope = logger.BeginScope("Request {RequestId} item {ItemIndex}", item.BatchId, item.Idx);
        var traceParent = await TraceParentAsync(item, stoppingToken);
        using var span = StartItemSpan(item, traceParent);
        if (item.TakenOverFrom is { } previousOwner)
        {
            logger.LogWarning("Took over item {Batch}/{Index} (attempt {Attempt}) from {PreviousOwner}, whose lease ran out", item.BatchId, item.Idx, item.Attempts, previousOwner);
        }

        // Past its lease the item may already be someone else's: stop working on it.
        using var lease = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        lease.CancelAfter(settings.LeaseDuration);
        try
        {
            var result = await LookUpAsync(item, lease.Token);
            var settled = result switch
            {
                WaterfallResult.Completed completed => await queue.CompleteAsync(item, Owner, completed.Outcome, lease.Token),
                WaterfallResult.AllSourcesFailed { Retryable: true } failed => await queue.ReleaseAfterFailureAsync(
                    item, Owner, failed.Error, settings.MaxAttempts, RetryDelay(settings, item.Attempts), lease.Token),
                WaterfallResult.AllSourcesFailed failed => await queue.FailAsync(item, Owner, failed.Error, lease.Token),
                WaterfallResult.Deferred deferred => await queue.DeferAsync(item, Owner, deferred.Reason, deferred.RetryAfter, lease.Token),
                WaterfallResult.OutageDeferred outage => await queue.DeferAfterOutageAsync(item, Owner, outage.Reason, outage.RetryAfter, lease.Token),
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
        catch (OperationCanceledException) when (lease.IsCancellationRequested)
        {
            // Shutting down or out of lease: the lease's expiry hands the item to the next claim.
        }
        catch (Exception exception)
        {
            span?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            logger.LogError(exception, "Item {Batch}/{Index} failed on attempt {Attempt}", item.BatchId, item.Idx, item.Attempts);
            try
            {
                await queue.ReleaseAfterFailureAsync(item, Owner, "internal error while processing the item", settings.MaxAttempts,
                    RetryDelay(settings, item.Attempts), stoppingToken);
                signal.ProgressMade();
            }
            catch (Exception releaseException) when (releaseException is not OperationCanceledException)
            {
                logger.LogError(releaseException, "Could not release item {Batch}/{Index}; its lease will expire", item.BatchId, item.Idx);
            }
        }
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
        if (await suppressions.FindForAsync(item.Person, cancellationToken) is { } suppressed)
        {
            return Suppressed(suppressed.Error);
        }

        var asked = Stopwatch.GetTimestamp();
        var cached = await cache.FindAsync(item.Person, item.AskedFields, cancellationToken);
        Instruments.SourceAsked("cache", cached is null ? SourceOutcome.Empty : SourceOutcome.Found, Stopwatch.GetElapsedTime(asked));
        if (cached is not null)
        {
            return await UnlessSuppressedAsync(new WaterfallResult.Completed(cached), cancellationToken);
        }

        var result = await UnlessSuppressedAsync(
            await waterfall.RunAsync(item.Person, item.AskedFields, cancellationToken, (int)item.Deferrals, (int)item.OutageRetries), cancellationToken);
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

    private async Task<WaterfallResult> UnlessSuppressedAsync(WaterfallResult result, CancellationToken cancellationToken) =>
        result is WaterfallResult.Completed completed
        && (await suppressions.SuppressedAmongAsync(completed.Outcome.Emails.Select(e => e.Email).ToList(), cancellationToken)).Count > 0
            ? Suppressed(Suppression.PersonsRequest)
            : result;

    /// <summary>No email, no phone, nothing charged, nothing cached, and the reason said.</summary>
    private static WaterfallResult.Completed Suppressed(string error) => new(new EnrichmentOutcome([], null, []) { Error = error });

    private static TimeSpan RetryDelay(WorkerOptions settings, long attempts)
    {
        var delay = settings.RetryDelay * Math.Pow(2, Math.Max(0, attempts - 1));
        return delay > settings.MaxRetryDelay ? settings.MaxRetryDelay : delay;
    }
}
