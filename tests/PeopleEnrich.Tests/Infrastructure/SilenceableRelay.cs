using System.Net;
using System.Net.Sockets;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A TCP relay on 127.0.0.1 to one address that can go silent: after <see cref="Silence"/> the connections open then pass
/// nothing more, either way, and are not closed, as when a NAT forgets a connection or a database fails over without a
/// word. Connections made afterwards pass as before.
/// </summary>
public sealed class SilenceableRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Task _accepting;

    private SilenceableRelay(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static SilenceableRelay Start(IPEndPoint target) => new(target);

    /// <summary>Every connection open now drops what either side sends it from now on.</summary>
    public void Silence()
    {
        lock (_connections)
        {
            _connections.ForEach(connection => connection.Silenced = true);
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient();
                await upstream.ConnectAsync(_target, _stop.Token);
                var connection = new Connection(client, upstream);
                lock (_connections)
                {
                    _connections.Add(connection);
                }

                _ = connection.RelayAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_connections)
        {
            _connections.ForEach(connection => connection.Dispose());
        }

        _stop.Dispose();
    }

    private sealed class Connection(TcpClient client, TcpClient upstream) : IDisposable
    {
        public volatile bool Silenced;

        public async Task RelayAsync(CancellationToken stop)
        {
            try
            {
                await Task.WhenAny(PumpAsync(client.GetStream(), upstream.GetStream(), stop), PumpAsync(upstream.GetStream(), client.GetStream(), stop));
            }
            finally
            {
                // A side that closed is passed on, unless silent: then the other side hears nothing, not even that.
                if (!Silenced)
                {
                    Dispose();
                }
            }
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken stop)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer, stop)) > 0)
                {
                    if (!Silenced)
                    {
                        await to.WriteAsync(buffer.AsMemory(0, read), stop);
                    }
                }
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            client.Dispose();
            upstream.Dispose();
        }
    }
}
