using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Turns the waterfall's one-person-at-a-time asks of one upstream into the contract's batches: the
/// first person asked opens a batch that others join for <see cref="UpstreamOptions.BatchWindow"/>, or
/// until it holds <see cref="MaxBatchSize"/>; it is then submitted and polled, and each caller is
/// answered with its own item as soon as that item is done. A caller's answer is null when the
/// upstream gave none (an outage, an answer outside the contract): that is logged here, once per batch.
/// </summary>
public sealed class UpstreamBatcher : IDisposable
{
    /// <summary>The contract's largest batch.</summary>
    public const int MaxBatchSize = 100;

    private static readonly TimeSpan LongestPreferredWait = TimeSpan.FromSeconds(30);

    private readonly UpstreamClient _client;
    private readonly UpstreamOptions _upstream;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private List<PendingAsk>? _open;

    public UpstreamBatcher(UpstreamClient client, UpstreamOptions upstream, TimeProvider time, ILogger<UpstreamBatcher> logger)
    {
        _client = client;
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

    /// <summary>The upstream's result for this person, or null when it gave none.</summary>
    public async Task<UpstreamItemResult?> AskAsync(UpstreamPerson person, CancellationToken cancellationToken)
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
            if (_open.Count == MaxBatchSize)
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
        try
        {
            await SubmitAndPollAsync(asks, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            _logger.LogWarning("Upstream {Upstream} gave no answer for a batch of {People}: {Reason}", _upstream.Name, asks.Count, Describe(exception));
        }
        finally
        {
            foreach (var ask in asks)
            {
                ask.Settle(null);
            }

            // The continuations above may still run: cancel before dispose, so that theirs is a no-op.
            CancelQuietly(everyoneGone);
        }
    }

    private async Task SubmitAndPollAsync(List<PendingAsk> asks, CancellationToken cancellationToken)
    {
        var requestId = await _client.SubmitAsync(asks.Select(ask => ask.Person).ToList(), "peopleenrich-" + Guid.CreateVersion7().ToString("N"), cancellationToken);
        var pending = Enumerable.Range(0, asks.Count).ToList();
        while (true)
        {
            var started = _time.GetTimestamp();
            var batch = await _client.PollAsync(requestId, PreferredWait, cancellationToken);
            var processing = batch.Status == UpstreamStatus.Processing;
            if (batch.Results is { } results)
            {
                if (results.Count != asks.Count)
                {
                    throw new UpstreamException($"answered {results.Count} results for a batch of {asks.Count}");
                }

                foreach (var i in pending.ToList())
                {
                    // An item without a status is not done: if the batch is, that is an answer outside the contract.
                    if (results[i] is { Status: { } status } result && status != UpstreamStatus.Processing)
                    {
                        asks[i].Settle(result);
                        pending.Remove(i);
                    }
                }
            }
            else if (!processing)
            {
                throw new UpstreamException($"answered {batch.Status ?? "no status"} without results");
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (!processing)
            {
                throw new UpstreamException($"answered {batch.Status ?? "no status"} with {pending.Count} items still processing");
            }

            var rest = _upstream.PollInterval - _time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, _time, cancellationToken);
            }
        }
    }

    /// <summary>Held polls answer as soon as the batch is done; half an attempt's time leaves room for the answer.</summary>
    private TimeSpan PreferredWait
    {
        get
        {
            var wait = _upstream.PollInterval < _upstream.AttemptTimeout / 2 ? _upstream.PollInterval : _upstream.AttemptTimeout / 2;
            return wait > LongestPreferredWait ? LongestPreferredWait : wait;
        }
    }

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

    private sealed class PendingAsk(UpstreamPerson person)
    {
        private readonly TaskCompletionSource<UpstreamItemResult?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public UpstreamPerson Person { get; } = person;

        public Task<UpstreamItemResult?> Answer => _answer.Task;

        public bool IsWaiting => !_answer.Task.IsCompleted;

        public void Settle(UpstreamItemResult? result) => _answer.TrySetResult(result);

        public void Abandon(CancellationToken cancellationToken) => _answer.TrySetCanceled(cancellationToken);
    }
}
