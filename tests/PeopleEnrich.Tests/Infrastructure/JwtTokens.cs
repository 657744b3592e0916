using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>An RSA key pair of a test authorization server, published under <see cref="KeyId"/>.</summary>
public sealed class SigningKey(string? keyId = null) : IDisposable
{
    public RSA Rsa { get; } = RSA.Create(2048);

    public string KeyId { get; } = keyId ?? "kid-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The public half as a JWK: {kty, n, e, kid, use: "sig", alg: "RS256"}.</summary>
    public JsonObject PublicJwk()
    {
        var parameters = Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            ["kid"] = KeyId,
            ["use"] = "sig",
            ["alg"] = SecurityAlgorithms.RsaSha256,
        };
    }

    public SigningCredentials Credentials() => new(new RsaSecurityKey(Rsa) { KeyId = KeyId }, SecurityAlgorithms.RsaSha256);

    public void Dispose() => Rsa.Dispose();
}

/// <summary>
/// The test's own authorization server: JWKS documents and tokens minted with
/// <see cref="JsonWebTokenHandler"/>, valid by default and spoiled one way at a time by the caller.
/// </summary>
public static class JwtTokens
{
    public const string Issuer = "https://auth.peopleenrich.test/";
    public const string Audience = "https://api.peopleenrich.test/";
    public const string AccountClaim = "account_id";

    /// <summary>{"keys": [public JWK, …]}</summary>
    public static string Jwks(params SigningKey[] keys) =>
        new JsonObject { ["keys"] = new JsonArray(keys.Select(k => (JsonNode)k.PublicJwk()).ToArray()) }.ToJsonString();

    /// <summary>The app settings that trust <see cref="Issuer"/> for <see cref="Audience"/>, with keys from a file or a URL.</summary>
    public static Dictionary<string, string?> Settings(string? jwksFile = null, Uri? jwksUrl = null) => new()
    {
        ["Auth:Jwt:Issuer"] = Issuer,
        ["Auth:Jwt:Audience"] = Audience,
        ["Auth:Jwt:JwksFile"] = jwksFile,
        ["Auth:Jwt:JwksUrl"] = jwksUrl?.ToString(),
    };

    /// <summary>
    /// A token signed by <paramref name="key"/> (unsigned, alg "none", when null) naming
    /// <paramref name="accountId"/> (no account claim when null). By default it is valid from a
    /// minute ago for ten minutes; <paramref name="lifetime"/> null leaves out exp.
    /// </summary>
    public static string Create(
        SigningKey? key,
        string? accountId,
        string issuer = Issuer,
        string audience = Audience,
        DateTime? notBefore = null,
        DateTime? expires = null,
        bool withExpiry = true)
    {
        var now = DateTime.UtcNow;
        var validFrom = notBefore ?? now.AddMinutes(-1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = validFrom < now ? validFrom : now,
            NotBefore = validFrom,
            Expires = withExpiry ? expires ?? now.AddMinutes(10) : null,
            Claims = new Dictionary<string, object> { ["sub"] = "user-" + Guid.NewGuid().ToString("N")[..8] },
            SigningCredentials = key?.Credentials(),
        };
        if (accountId is not null)
        {
            descriptor.Claims[AccountClaim] = accountId;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>
    /// A hand-made unsigned token, {"alg":"none"}, that names a key the server knows and is otherwise
    /// valid: it must be refused for want of a signature alone.
    /// </summary>
    public static string Unsigned(string keyId, string accountId)
    {
        var now = DateTimeOffset.UtcNow;
        var header = new JsonObject { ["alg"] = "none", ["typ"] = "JWT", ["kid"] = keyId };
        var payload = new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["iat"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(10).ToUnixTimeSeconds(),
            [AccountClaim] = accountId,
        };
        return $"{Segment(header)}.{Segment(payload)}.";
    }

    private static string Segment(JsonObject json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
