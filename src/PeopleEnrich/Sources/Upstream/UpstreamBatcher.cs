using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Turns the waterfall's one-person-at-a-time asks of one upstream into its adapter's submissions: the
/// first person asked opens a batch that others join for <see cref="UpstreamOptions.BatchWindow"/>, or
/// until it holds the adapter's <see cref="IUpstreamAdapter.MaxBatchSize"/> (a provider asked one person
/// at a time holds one: each leaves at once); it is then submitted and polled, at most once every
/// <see cref="UpstreamOptions.PollInterval"/>, and each caller is answered with its own answer as soon as
/// there is one. A caller whose upstream gave no answer (an outage, an answer outside its API, our key
/// refused) is told why (<see cref="UpstreamAnswer.NotGiven"/>): that is logged here, once per batch.
/// </summary>
public sealed class UpstreamBatcher : IDisposable
{
    private readonly IUpstreamAdapter _adapter;
    private readonly UpstreamOptions _upstream;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private List<PendingAsk>? _open;

    public UpstreamBatcher(IUpstreamAdapter adapter, UpstreamOptions upstream, TimeProvider time, ILogger<UpstreamBatcher> logger)
    {
        if (adapter.MaxBatchSize < 1)
        {
            throw new ArgumentException($"The adapter of {upstream.Name} takes batches of {adapter.MaxBatchSize}: it must take at least one person.", nameof(adapter));
        }

        _adapter = adapter;
        _upstream = upstream;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many people wait in the batch that is still open (for tests).</summary>
    internal int Lingering
    {
        get
        {
            lock (_lock)
            {
                return _open?.Count ?? 0;
            }
        }
    }

    /// <summary>The upstream's answer for this person, or why it gave none.</summary>
    public async Task<UpstreamReply> AskAsync(UpstreamAsk person, CancellationToken cancellationToken)
    {
        var ask = new PendingAsk(person);
        List<PendingAsk>? opened = null;
        List<PendingAsk>? full = null;
        lock (_lock)
        {
            if (_open is null)
            {
                _open = opened = [];
            }

            _open.Add(ask);
            if (_open.Count >= _adapter.MaxBatchSize)
            {
                full = _open;
                _open = null;
            }
        }

        if (full is not null)
        {
            Dispatch(full);
        }
        else if (opened is not null)
        {
            _ = SealAfterWindowAsync(opened);
        }

        await using var abandon = cancellationToken.Register(() => ask.Abandon(cancellationToken));
        return await ask.Answer;
    }

    private async Task SealAfterWindowAsync(List<PendingAsk> batch)
    {
        try
        {
            await Task.Delay(_upstream.BatchWindow, _time, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_lock)
        {
            if (!ReferenceEquals(_open, batch))
            {
                return; // it filled up and left already
            }

            _open = null;
        }

        Dispatch(batch);
    }

    private void Dispatch(List<PendingAsk> batch) => _ = Task.Run(() => RunAsync(batch));

    private async Task RunAsync(List<PendingAsk> batch)
    {
        var asks = batch.Where(ask => ask.IsWaiting).ToList();
        if (asks.Count == 0)
        {
            return;
        }

        // Once every caller has given up (the waterfall's time-out), the batch is no one's business any more.
        using var everyoneGone = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var waiting = asks.Count;
        foreach (var ask in asks)
        {
            _ = ask.Answer.ContinueWith(_ =>
            {
                if (Interlocked.Decrement(ref waiting) == 0)
                {
                    CancelQuietly(everyoneGone);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var token = everyoneGone.Token;
        var silence = new UpstreamAnswer.NotGiven("it gave no answer", WillLast: false);
        try
        {
            await SubmitAndPollAsync(asks, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            silence = new UpstreamAnswer.NotGiven(Plain(exception), WillLast: exception is UpstreamException { RefusedOurKey: true });
            // Its words, made safe (its key taken out), for the operator; not the exception itself, whose text may hold the key.
            _logger.LogWarning("Upstream {Upstream} gave no answer for a batch of {People}: {Reason}", _upstream.Name, asks.Count, Describe(exception));
        }
        finally
        {
            var now = _time.GetUtcNow();
            foreach (var ask in asks)
            {
                ask.Settle(new UpstreamReply(silence, now));
            }

            // The continuations above may still run: cancel before dispose, so that theirs is a no-op.
            CancelQuietly(everyoneGone);
        }
    }

    private async Task SubmitAndPollAsync(List<PendingAsk> asks, CancellationToken cancellationToken)
    {
        var submission = await _adapter.SubmitAsync(asks.Select(ask => ask.Person).ToList(), cancellationToken);
        var pending = Enumerable.Range(0, asks.Count).ToList();
        while (true)
        {
            var started = _time.GetTimestamp();
            var progress = await submission.PollAsync(cancellationToken);
            var receivedAt = _time.GetUtcNow();
            if (progress.Answers.Count != asks.Count)
            {
                throw new UpstreamException($"answered {progress.Answers.Count} results for a batch of {asks.Count}");
            }

            foreach (var i in pending.ToList())
            {
                if (progress.Answers[i] is { } answer)
                {
                    asks[i].Settle(new UpstreamReply(answer, receivedAt));
                    pending.Remove(i);
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (!progress.StillWorking)
            {
                throw new UpstreamException($"said it was done with {pending.Count} items still unanswered");
            }

            var rest = _upstream.PollInterval - _time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, _time, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Why the upstream gave no answer, for the caller's error: an exception's own words (a connection's address, our
    /// network's names, a library's internals) are for the log (<see cref="Describe"/>), not for an API user.
    /// </summary>
    private string Plain(Exception exception) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "its name could not be resolved",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "no connection could be made to it",
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } => "the secure connection to it failed",
        HttpRequestException => "the request to it failed",
        BrokenCircuitException or TimeoutRejectedException or RateLimiterRejectedException or UpstreamException => Describe(exception),
        _ => "it failed unexpectedly",
    };

    private string Describe(Exception exception) => ForeignText.Loggable(exception switch
    {
        BrokenCircuitException => "its circuit is open after repeated failures",
        TimeoutRejectedException => "it did not answer in time",
        RateLimiterRejectedException => "too many requests were waiting for its rate limit",
        HttpRequestException http => "the request failed: " + http.Message,
        UpstreamException upstream => upstream.Message,
        _ => $"{exception.GetType().Name}: {exception.Message}",
    }, _upstream.ApiKey);

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Stops open and running batches. The source is cancelled, not disposed: a batch that is only now
    /// leaving still reads its token, and a source with no timer or parent holds nothing to free.
    /// </summary>
    public void Dispose() => _stopping.Cancel();

    private sealed class PendingAsk(UpstreamAsk person)
    {
        private readonly TaskCompletionSource<UpstreamReply> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public UpstreamAsk Person { get; } = person;

        public Task<UpstreamReply> Answer => _answer.Task;

        public bool IsWaiting => !_answer.Task.IsCompleted;

        public void Settle(UpstreamReply reply) => _answer.TrySetResult(reply);

        public void Abandon(CancellationToken cancellationToken) => _answer.TrySetCanceled(cancellationToken);
    }
}

/// <summary>A provider's answer for one person (or why there is none), and when it was received (the evidence's time of observation).</summary>
public sealed record UpstreamReply(UpstreamAnswer Answer, DateTimeOffset ReceivedAt);
