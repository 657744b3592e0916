using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DnsClient;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Verification.Network;

/// <summary>How an HTTP client built by <see cref="GuardedHttp"/> connects.</summary>
/// <param name="ConnectTimeout">For one TCP connection (the proxy's handshake included).</param>
/// <param name="Proxy">The operator's SOCKS5 proxy, if any: it is asked for the checked address, never for a name.</param>
/// <param name="TrustedCertificate">An extra certificate trusted as a root (an internal site, the tests' world); public roots still apply.</param>
public sealed record GuardedHttpSettings(TimeSpan ConnectTimeout, Socks5Proxy? Proxy, X509Certificate2? TrustedCertificate);

/// <summary>
/// HTTP connections that obey the same rule as SMTP: the host name is resolved through the configured
/// resolvers (<see cref="MailDns"/>), every address is checked by <see cref="NetworkGuard"/>, and the
/// socket goes to exactly the address that was checked. The platform's resolver is never asked, so a
/// name that answers differently the second time (DNS rebinding) cannot slip a private address past the check.
/// </summary>
public sealed class GuardedHttp(MailDns dns, NetworkGuard guard, ILogger<GuardedHttp> logger)
{
    /// <summary>
    /// A handler with no redirects (the caller decides which to follow), no proxy from the environment,
    /// no cookies, and no draining of bodies left unread (a cut-off page closes its connection).
    /// </summary>
    public SocketsHttpHandler CreateHandler(GuardedHttpSettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.All,
            MaxResponseDrainSize = 0,
            ConnectTimeout = settings.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, settings, cancellationToken),
        };
        if (settings.TrustedCertificate is { } trusted)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted);
        }

        return handler;
    }

    private async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, GuardedHttpSettings settings, CancellationToken cancellationToken)
    {
        var host = endPoint.Host.Trim('[', ']');
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await dns.ResolveHostAsync(host, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            throw new HostUnresolvedException(host, exception);
        }

        if (addresses.Count == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound, $"{host} has no address");
        }

        var allowed = new List<IPAddress>();
        foreach (var address in addresses)
        {
            if (guard.IsAllowed(address))
            {
                allowed.Add(address);
            }
            else
            {
                logger.LogWarning("Web host {Host} resolves to {Address}, which is not public: not connecting", host, address);
            }
        }

        if (allowed.Count == 0)
        {
            throw new BlockedAddressException(addresses[0]);
        }

        Exception? last = null;
        foreach (var address in allowed)
        {
            try
            {
                return await guard.ConnectAsync(address, endPoint.Port, settings.ConnectTimeout, settings.Proxy, cancellationToken);
            }
            catch (Exception exception) when (exception is SocketException or IOException
                                              || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                last = exception;
            }
        }

        throw new SocketException((int)SocketError.ConnectionRefused, $"no address of {host} took the connection: {last?.Message}");
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trusted)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // Only the chain may be vouched for by the extra root: a name mismatch or no certificate stays fatal.
        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }
}

/// <summary>DNS gave no answer (a time-out, SERVFAIL) for a host: nothing can be said of it now, unlike a name with no address.</summary>
public sealed class HostUnresolvedException(string host, Exception inner)
    : Exception($"DNS did not answer for {host}: {inner.Message}", inner)
{
    public string Host { get; } = host;
}
