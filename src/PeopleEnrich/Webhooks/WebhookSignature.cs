using System.Security.Cryptography;
using System.Text;

namespace PeopleEnrich.Webhooks;

/// <summary>
/// Standard Webhooks signing: a secret is "whsec_" and the base64 of random bytes; a signature is "v1," and the base64
/// HMAC-SHA256, keyed with those bytes, of "{webhook-id}.{webhook-timestamp}.{body}".
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    private const int SecretBytes = 32;

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>
    /// The value of the webhook-signature header: one "v1,…" per secret, separated by spaces, as Standard Webhooks allows
    /// (a receiver accepts the call when any of them verifies).
    /// </summary>
    public static string Sign(IEnumerable<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new List<byte>(Encoding.UTF8.GetBytes($"{id}.{timestamp}."));
        signed.AddRange(body);
        var content = signed.ToArray();
        return string.Join(' ', secrets.Select(secret =>
            "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret[SecretPrefix.Length..]), content))));
    }

    /// <summary>A webhook-id: unique per event, the same on every attempt.</summary>
    public static string NewEventId() => $"msg_{Guid.CreateVersion7():N}";
}
