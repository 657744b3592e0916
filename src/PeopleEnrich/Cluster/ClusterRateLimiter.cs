using System.Threading.RateLimiting;

namespace PeopleEnrich.Cluster;

/// <summary>
/// A rate limiter (for a resilience pipeline) whose permits are <see cref="ClusterPacer"/> turns: at most
/// <c>perSecond</c> a second over every process on the database, bursts of up to ⌊perSecond⌋, and below one a
/// second one every 1/perSecond seconds. Acquiring waits for the turn; there is no queue to overflow.
/// </summary>
public sealed class ClusterRateLimiter(ClusterPacer pacer, string name, double perSecond) : RateLimiter
{
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(1 / perSecond);
    private readonly int _burst = Math.Max(1, (int)Math.Floor(perSecond));

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    /// <summary>Only a wait can be answered (the turn is the database's): without one, no permit.</summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Permit.Refused;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        for (var permit = 0; permit < permitCount; permit++)
        {
            await pacer.WaitTurnAsync(name, _interval, _burst, cancellationToken);
        }

        return Permit.Granted;
    }

    private sealed class Permit(bool acquired) : RateLimitLease
    {
        public static Permit Granted { get; } = new(true);

        public static Permit Refused { get; } = new(false);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
