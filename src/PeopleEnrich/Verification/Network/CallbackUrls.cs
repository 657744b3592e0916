using System.Net;
using DnsClient;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Verification.Network;

/// <summary>
/// Whether a URL someone gives us to call back (a webhook) is one we may call: absolute http or https, no
/// credentials in it, a web port (80, 443 or unprivileged), and a host whose every address the <see cref="NetworkGuard"/> allows, resolved through the
/// configured resolvers as every connection is. Checked when the URL is given, so a mistake is told at once; the
/// guard checks again at each connection (the name may answer differently later).
/// </summary>
public sealed class CallbackUrls(MailDns dns, NetworkGuard guard)
{
    public const int MaxLength = 2048;

    /// <summary>Null when <paramref name="value"/> may be called, else why not (a phrase that completes "webhook_url …").</summary>
    public async Task<string?> ProblemAsync(string value, CancellationToken cancellationToken)
    {
        if (value.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters";
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host.Length == 0)
        {
            return "must be an absolute https:// or http:// URL";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "must not hold credentials (user:password@); authenticate the call by its signature";
        }

        // A POST to a mail or other service port of a public host would speak HTTP at it (cross-protocol): web ports only.
        if (uri.Port is not (80 or 443) and < 1024)
        {
            return $"must use port 80, 443 or 1024 and above, not {uri.Port}";
        }

        var host = uri.IdnHost.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return $"names {host}, which is this machine; it must be a public address";
        }

        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await dns.ResolveHostAsync(host, cancellationToken);
        }
        catch (DnsResponseException)
        {
            return $"names {host}, which DNS did not answer for; try again, or check the name";
        }

        if (addresses.Count == 0)
        {
            return $"names {host}, which has no address";
        }

        return addresses.FirstOrDefault(address => !guard.IsAllowed(address)) is { } blocked
            ? $"names {host}, which is {blocked}: not a public address (private, loopback, link-local and metadata addresses are refused)"
            : null;
    }
}
