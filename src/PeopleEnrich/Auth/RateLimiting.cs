using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using PeopleEnrich.Api;

namespace PeopleEnrich.Auth;

public sealed class RateLimitOptions
{
    /// <summary>Requests per second per API key or bearer token (also the burst allowed).</summary>
    public int PermitsPerSecond { get; set; } = 10;
}

public static class RateLimiting
{
    public static IServiceCollection AddCallerRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var permits = configuration.GetSection("RateLimit").Get<RateLimitOptions>()?.PermitsPerSecond ?? 10;
        services.AddRateLimiter(options =>
        {
            // Runs after authentication: anonymous calls are not limited here, they are refused.
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                http.User.RateLimitPartition() is { } partition
                    ? RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = permits,
                        TokensPerPeriod = permits,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("anonymous"));
            options.OnRejected = async (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                await ApiProblem.TooManyRequests(retryAfter).ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }
}
