using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PeopleEnrich.Api.Auth;

public sealed class RateLimitOptions
{
    /// <summary>Requests per second per API key or bearer token (also the burst allowed).</summary>
    public int PermitsPerSecond { get; set; } = 10;
}

public static class RateLimiting
{
    public static IServiceCollection AddCallerRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<RateLimitOptions>(configuration.GetSection("RateLimit"));
        services.AddRateLimiter(options =>
        {
            // Runs after authentication: anonymous calls are not limited here, they are refused.
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                http.User.RateLimitPartition() is { } partition
                    ? RateLimitPartition.GetTokenBucketLimiter(partition, _ => Bucket(http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerSecond))
                    : RateLimitPartition.GetNoLimiter("anonymous"));
            options.OnRejected = async (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                await ApiProblem.TooManyRequests(retryAfter).ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }

    private static TokenBucketRateLimiterOptions Bucket(int permitsPerSecond) => new()
    {
        TokenLimit = permitsPerSecond,
        TokensPerPeriod = permitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
