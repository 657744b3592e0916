using System.Security.Claims;

namespace PeopleEnrich.Api.Auth;

/// <summary>What the edge knows of an authenticated caller.</summary>
public static class Caller
{
    public const string AccountClaim = "peopleenrich:account";

    /// <summary>The rate limiter's bucket: one per API key, one per bearer token.</summary>
    public const string RateLimitPartitionClaim = "peopleenrich:rate-partition";

    public static string AccountId(this ClaimsPrincipal user) =>
        user.FindFirstValue(AccountClaim) ?? throw new InvalidOperationException("The endpoint requires an authenticated caller.");

    public static string? RateLimitPartition(this ClaimsPrincipal user) => user.FindFirstValue(RateLimitPartitionClaim);
}
