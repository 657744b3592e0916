using Microsoft.Extensions.Http.Resilience;
using PeopleEnrich.Cluster;
using Polly;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// What stands between us and an upstream, outermost first: the request's whole time (<see cref="UpstreamOptions.Timeout"/>),
/// retries with exponential backoff and jitter (a Retry-After answer is waited out, capped), a circuit
/// breaker, the rate limit (inside the retries, so that retries are counted too), and each attempt's time.
/// The rate limit is the upstream's across every process on the database (<see cref="ClusterRateLimiter"/>).
/// </summary>
public static class UpstreamResilience
{
    // The breaker's statistics: with a few requests a second, Polly's default of 100 calls would never trip it.
    private const double BreakingFailureRatio = 0.5;
    private const int BreakingThroughput = 5;
    private static readonly TimeSpan BreakerSampling = TimeSpan.FromSeconds(30);

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, UpstreamOptions upstream, TimeProvider time, ClusterPacer pacer, Action<IDisposable> ownUntilDisposed)
    {
        pipeline.AddTimeout(upstream.Timeout);
        if (upstream.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = upstream.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = upstream.RetryDelay,
                MaxDelay = upstream.MaxRetryDelay,
                // Every method, POST included: submissions carry an Idempotency-Key, so a retried one creates no second batch.
                ShouldHandle = args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response, time.GetUtcNow(), upstream.MaxRetryDelay) : null),
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = BreakingFailureRatio,
            MinimumThroughput = BreakingThroughput,
            SamplingDuration = BreakerSampling,
            BreakDuration = upstream.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)),
        });

        var limiter = new ClusterRateLimiter(pacer, "upstream:" + upstream.Name.ToLowerInvariant(), upstream.MaxRequestsPerSecond);
        ownUntilDisposed(limiter);
        pipeline.AddRateLimiter(limiter);
        pipeline.AddTimeout(upstream.AttemptTimeout);
    }

    /// <summary>
    /// The wait a response asks for in Retry-After (seconds, or an HTTP date), at most <paramref name="cap"/>;
    /// null when it asks for none, and the backoff applies.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now, TimeSpan cap)
    {
        var wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => (TimeSpan?)null,
        };
        if (wait is null)
        {
            return null;
        }

        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;
    }
}
