namespace PeopleEnrich.Api.Auth;

/// <summary>Auth:Jwt: bearer tokens from the operator's OAuth 2.1 authorization server.</summary>
public sealed class JwtOptions
{
    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    /// <summary>Where the signing keys are published (a JWKS document).</summary>
    public string? JwksUrl { get; set; }

    /// <summary>A JWKS document on disk, for installs without a route to the authorization server.</summary>
    public string? JwksFile { get; set; }

    /// <summary>The claim that names the account.</summary>
    public string AccountClaim { get; set; } = "account_id";

    /// <summary>Tolerated clock difference with the authorization server.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long fetched signing keys are used before they are fetched again.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer) && !string.IsNullOrWhiteSpace(Audience)
        && (!string.IsNullOrWhiteSpace(JwksUrl) || !string.IsNullOrWhiteSpace(JwksFile));
}
