using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DnsClient;

namespace PeopleEnrich.MailWorld.Tests;

/// <summary>Real HTTP clients for the world's websites: names resolved by the world's DNS, TLS trusting its certificate.</summary>
internal static class Web
{
    /// <summary>
    /// A client that resolves every host through the world's DNS (so nothing is asked of, or sent to, anyone else),
    /// follows no redirect, and trusts the world's certificate when <paramref name="trustWorld"/> (else the system's roots).
    /// <paramref name="receiveBuffer"/> fixes the kernel's receive buffer (else it grows with the transfer, to tens of MiB).
    /// </summary>
    public static HttpClient Client(this MailWorld world, bool trustWorld = true, string? userAgent = "MailWorldTests/1.0", int? receiveBuffer = null)
    {
        var dns = world.Dns(tcp: false);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            // A response disposed before its end closes the connection rather than reading the rest.
            MaxResponseDrainSize = 0,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var answer = await dns.QueryAsync(context.DnsEndPoint.Host, QueryType.A, cancellationToken: cancellationToken);
                var address = answer.Answers.ARecords().FirstOrDefault()?.Address
                    ?? throw new HttpRequestException($"{context.DnsEndPoint.Host} does not resolve in the world.");
                Assert.True(IPAddress.IsLoopback(address), $"A test connects to loopback only, not {address}.");
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    // Before connecting, so that the window offered in the handshake is already the small one.
                    if (receiveBuffer is { } size) socket.ReceiveBufferSize = size;
                    await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        if (trustWorld) handler.SslOptions.RemoteCertificateValidationCallback = TrustOnly(world.CertificatePem);
        var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        if (userAgent is not null) client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        return client;
    }

    public static string Http(this MailWorld world, string host, string pathAndQuery) => $"http://{host}:{world.HttpPort}{pathAndQuery}";

    public static string Https(this MailWorld world, string host, string pathAndQuery) => $"https://{host}:{world.HttpsPort}{pathAndQuery}";

    /// <summary>Accepts a server certificate only when it chains to the given PEM certificate and names the host asked for.</summary>
    private static RemoteCertificateValidationCallback TrustOnly(string pem)
    {
        var root = X509Certificate2.CreateFromPem(pem);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var presented = new X509Certificate2(certificate);
            return chain.Build(presented);
        };
    }
}
