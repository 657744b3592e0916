using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PeopleEnrich.Accounts;

namespace PeopleEnrich.Api.Auth;

/// <summary>
/// The contract's two schemes on one header: an API key, raw or as "Bearer pe_…", or a JWT as
/// "Bearer eyJ…" when Auth:Jwt is configured. Every refusal is a 401 problem that says why,
/// without echoing the credential.
/// </summary>
public sealed class CallerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AccountStore accounts,
    IOptions<JwtOptions> jwtOptions,
    SigningKeys signingKeys,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "PeopleEnrich";
    private const string FailureItem = "peopleenrich:auth-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString().Trim();
        if (header.Length == 0)
        {
            return Fail("Send your API key in the Authorization header.");
        }

        var credential = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : header;
        if (LooksLikeJwt(credential))
        {
            return await AuthenticateJwtAsync(credential);
        }

        var accountId = await accounts.FindAccountByKeyAsync(credential, Context.RequestAborted);
        return accountId is null
            ? Fail("The API key is unknown or revoked.")
            : Success(accountId, "key:" + ApiKeys.LookupPrefix(credential));
    }

    private async Task<AuthenticateResult> AuthenticateJwtAsync(string token)
    {
        var settings = jwtOptions.Value;
        if (!settings.Enabled)
        {
            return Fail("Bearer tokens are not enabled on this server; use an API key.");
        }

        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        string? keyId = null;
        try
        {
            keyId = handler.ReadJsonWebToken(token).Kid;
        }
        catch (ArgumentException)
        {
            return Fail("The bearer token is malformed.");
        }

        var keys = await signingKeys.GetAsync(keyId, Context.RequestAborted);
        var validation = await handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = settings.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                // A custom validator replaces the library's RequireExpirationTime check: say so ourselves.
                if (expires is null)
                {
                    throw new SecurityTokenNoExpirationException("The token has no expiry (exp).");
                }

                var now = time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore.Value - parameters.ClockSkew <= now)
                    && expires is not null && now <= expires.Value + parameters.ClockSkew;
            },
        });
        if (!validation.IsValid)
        {
            return Fail(validation.Exception switch
            {
                SecurityTokenInvalidLifetimeException => "The bearer token is expired or not yet valid.",
                SecurityTokenNoExpirationException => "The bearer token has no expiry.",
                SecurityTokenInvalidIssuerException => "The bearer token's issuer is not trusted.",
                SecurityTokenInvalidAudienceException => "The bearer token is not for this service (audience).",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The bearer token's signature is not valid.",
                _ => "The bearer token is not valid.",
            });
        }

        var accountId = validation.Claims.TryGetValue(settings.AccountClaim, out var claim) ? claim?.ToString() : null;
        if (string.IsNullOrEmpty(accountId) || !await accounts.ExistsAsync(accountId, Context.RequestAborted))
        {
            return Fail($"The bearer token's '{settings.AccountClaim}' claim names no account here.");
        }

        var tokenId = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..16];
        return Success(accountId, "jwt:" + tokenId);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var reason = Context.Items[FailureItem] as string ?? "Send your API key in the Authorization header.";
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiProblem.Unauthorized(reason).ExecuteAsync(Context);
    }

    private AuthenticateResult Success(string accountId, string partition)
    {
        var identity = new ClaimsIdentity(
            [new Claim(Caller.AccountClaim, accountId), new Claim(Caller.RateLimitPartitionClaim, partition)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureItem] = reason;
        return AuthenticateResult.Fail(reason);
    }

    private static bool LooksLikeJwt(string credential) =>
        credential.StartsWith("eyJ", StringComparison.Ordinal) && credential.Count(c => c == '.') == 2;
}
