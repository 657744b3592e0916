using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace PeopleEnrich.Verification.Network;

public sealed class NetworkOptions
{
    /// <summary>Lets connections reach private, link-local and loopback addresses (an operator's own intranet).</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>
    /// Lets connections reach 127.0.0.0/8 and ::1 only: for tests and the simulated mail world, whose
    /// servers all live on loopback, while a world's "MX at 10.0.0.5" is still refused.
    /// </summary>
    public bool AllowLoopbackAddresses { get; set; }
}

/// <summary>
/// The one door every outbound connection goes through. User input decides which hosts we talk to,
/// so the address actually connected to (after DNS) must be a public one: never loopback, private,
/// link-local, multicast or reserved (cloud metadata at 169.254.169.254 included).
/// </summary>
public sealed class NetworkGuard(IOptions<NetworkOptions> options, ILogger<NetworkGuard> logger)
{
    public bool IsAllowed(IPAddress address) =>
        options.Value.AllowPrivateAddresses || IsPublic(address) || (options.Value.AllowLoopbackAddresses && IPAddress.IsLoopback(address));

    /// <summary>
    /// Opens a TCP connection to <paramref name="address"/>, directly or through the operator's SOCKS5
    /// proxy, or refuses (with a log line) when the address is not public. The proxy itself is the
    /// operator's configuration, so it may be anywhere; the address it is asked to reach may not.
    /// </summary>
    public async Task<Stream> ConnectAsync(IPAddress address, int port, TimeSpan timeout, Socks5Proxy? proxy, CancellationToken cancellationToken)
    {
        if (!IsAllowed(address))
        {
            logger.LogWarning("Refused to connect to {Address}: not a public address", address);
            throw new BlockedAddressException(address);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(proxy is null ? address.AddressFamily : AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (proxy is not null)
        {
            socket.DualMode = true;
        }

        try
        {
            if (proxy is null)
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
                return new NetworkStream(socket, ownsSocket: true);
            }

            await socket.ConnectAsync(proxy.Host, proxy.Port, deadline.Token);
            var stream = new NetworkStream(socket, ownsSocket: true);
            await proxy.ConnectAsync(stream, new IPEndPoint(address, port), deadline.Token);
            return stream;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal
                || (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) // 2001:db8::/32 documentation
                || bytes[0] == 0x00); // ::/8 reserved (v4-compatible, unspecified)
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 0 || b[0] == 10 || b[0] == 127 // this network, private, loopback
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) // carrier-grade NAT
            || (b[0] == 169 && b[1] == 254) // link-local, cloud metadata
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) // IETF protocol assignments, TEST-NET-1
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 198 && (b[1] == 18 || b[1] == 19)) // benchmarking
            || (b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113) // TEST-NET-2, -3
            || b[0] >= 224); // multicast, reserved, broadcast
    }
}

public sealed class BlockedAddressException(IPAddress address)
    : Exception($"{address} is not a public address; no connection was made.")
{
    public IPAddress Address { get; } = address;
}
