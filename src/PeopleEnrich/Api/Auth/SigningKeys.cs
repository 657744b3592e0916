using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace PeopleEnrich.Api.Auth;

/// <summary>
/// The authorization server's signing keys, from a JWKS file or URL. Fetched keys are cached and
/// fetched again when they are old or a token names a key id not seen yet (key rotation), at most
/// once every few seconds.
/// </summary>
public sealed class SigningKeys(IOptions<JwtOptions> options, IHttpClientFactory httpClients, TimeProvider time, ILogger<SigningKeys> logger)
{
    private static readonly TimeSpan MinimumRefetchGap = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    public async Task<IReadOnlyList<SecurityKey>> GetAsync(string? keyId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var stale = now - _fetchedAt > settings.JwksRefreshInterval;
        var unknownKey = keyId is not null && _keys.All(k => k.KeyId != keyId) && now - _fetchedAt > MinimumRefetchGap;
        if (!stale && !unknownKey)
        {
            return _keys;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_fetchedAt > now)
            {
                return _keys;
            }

            var json = !string.IsNullOrWhiteSpace(settings.JwksFile)
                ? await File.ReadAllTextAsync(settings.JwksFile, cancellationToken)
                : await httpClients.CreateClient(nameof(SigningKeys)).GetStringAsync(settings.JwksUrl, cancellationToken);
            _keys = new JsonWebKeySet(json).GetSigningKeys().ToList();
            _fetchedAt = time.GetUtcNow();
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Keep the keys we have: an outage of the key server must not lock every client out.
            logger.LogError(exception, "Could not load the JWT signing keys");
            _fetchedAt = now - settings.JwksRefreshInterval + MinimumRefetchGap;
        }
        finally
        {
            _gate.Release();
        }

        return _keys;
    }
}
