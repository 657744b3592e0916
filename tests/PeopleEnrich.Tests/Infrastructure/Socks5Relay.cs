using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>A minimal SOCKS5 server: no-auth or username/password, CONNECT to an IPv4 address, then a byte pipe.</summary>
public sealed class Socks5Relay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string? _user;
    private readonly string? _password;
    private readonly Task _accepting;

    private Socks5Relay(string? user, string? password)
    {
        _user = user;
        _password = password;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<IPEndPoint> Targets { get; } = new();

    public static Socks5Relay Start(string? user, string? password) => new(user, password);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var greeting = await Read(stream, 2);
            var methods = await Read(stream, greeting[1]);
            var method = _user is null ? (byte)0 : (byte)2;
            await stream.WriteAsync(new byte[] { 5, methods.Contains(method) ? method : (byte)0xFF });
            if (_user is not null)
            {
                var version = await Read(stream, 2);
                var user = Encoding.UTF8.GetString(await Read(stream, version[1]));
                var password = Encoding.UTF8.GetString(await Read(stream, (await Read(stream, 1))[0]));
                var ok = user == _user && password == _password;
                await stream.WriteAsync(new byte[] { 1, ok ? (byte)0 : (byte)1 });
                if (!ok)
                {
                    return;
                }
            }

            var request = await Read(stream, 4);
            Assert.Equal(1, request[3]); // IPv4: the client resolved and checked the address itself
            var address = new IPAddress(await Read(stream, 4));
            var portBytes = await Read(stream, 2);
            var target = new IPEndPoint(address, (portBytes[0] << 8) | portBytes[1]);
            Targets.Enqueue(target);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(target, _stop.Token);
            await stream.WriteAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 });
            var server = upstream.GetStream();
            await Task.WhenAny(stream.CopyToAsync(server, _stop.Token), server.CopyToAsync(stream, _stop.Token));
        }
    }

    private static async Task<byte[]> Read(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
