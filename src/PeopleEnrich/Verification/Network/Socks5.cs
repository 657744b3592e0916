using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PeopleEnrich.Verification.Network;

/// <summary>A SOCKS5 proxy (RFC 1928, with RFC 1929 username/password) from "socks5://[user:password@]host:port".</summary>
public sealed record Socks5Proxy(string Host, int Port, string? UserName, string? Password)
{
    public static Socks5Proxy Parse(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("socks5" or "socks5h") || uri.Port <= 0)
        {
            throw new FormatException($"Smtp:Socks5Proxy must look like socks5://[user:password@]host:port, not '{value}'.");
        }

        var credentials = uri.UserInfo.Split(':', 2);
        return new Socks5Proxy(uri.Host, uri.Port,
            credentials[0].Length > 0 ? Uri.UnescapeDataString(credentials[0]) : null,
            credentials.Length == 2 ? Uri.UnescapeDataString(credentials[1]) : null);
    }

    /// <summary>Asks the proxy, over <paramref name="stream"/>, for a connection to <paramref name="target"/> (an address the guard already allowed).</summary>
    public async Task ConnectAsync(Stream stream, IPEndPoint target, CancellationToken cancellationToken)
    {
        var withPassword = UserName is not null;
        await stream.WriteAsync(withPassword ? new byte[] { 5, 2, 0, 2 } : [5, 1, 0], cancellationToken);
        var choice = await ReadExactlyAsync(stream, 2, cancellationToken);
        if (choice[0] != 5 || choice[1] == 0xFF)
        {
            throw new SocketException((int)SocketError.ConnectionRefused);
        }

        if (choice[1] == 2)
        {
            var user = Encoding.UTF8.GetBytes(UserName ?? "");
            var password = Encoding.UTF8.GetBytes(Password ?? "");
            await stream.WriteAsync((byte[])[1, (byte)user.Length, .. user, (byte)password.Length, .. password], cancellationToken);
            var status = await ReadExactlyAsync(stream, 2, cancellationToken);
            if (status[1] != 0)
            {
                throw new SocketException((int)SocketError.AccessDenied);
            }
        }

        var address = target.Address.GetAddressBytes();
        byte kind = target.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)4 : (byte)1;
        await stream.WriteAsync((byte[])[5, 1, 0, kind, .. address, (byte)(target.Port >> 8), (byte)target.Port], cancellationToken);
        var reply = await ReadExactlyAsync(stream, 4, cancellationToken);
        if (reply[0] != 5 || reply[1] != 0)
        {
            throw new SocketException((int)SocketError.ConnectionRefused);
        }

        // The bound address that follows: 4 or 16 bytes, or a name, then the port.
        var rest = reply[3] switch
        {
            1 => 4,
            4 => 16,
            3 => (await ReadExactlyAsync(stream, 1, cancellationToken))[0],
            _ => throw new SocketException((int)SocketError.ProtocolNotSupported),
        };
        await ReadExactlyAsync(stream, rest + 2, cancellationToken);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }
}
