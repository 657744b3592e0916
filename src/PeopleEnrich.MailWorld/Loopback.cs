using System.Net;
using System.Net.Sockets;

namespace PeopleEnrich.MailWorld;

/// <summary>Hands out 127.0.0.2, .3, … in order, skipping .0, .1 and .255 of each /24.</summary>
internal sealed class LoopbackAddresses
{
    private int _next = 2;

    public IPAddress Next()
    {
        while (_next % 256 is 0 or 1 or 255) _next++;
        var address = new IPAddress([127, (byte)(_next >> 16), (byte)(_next >> 8), (byte)_next]);
        _next++;
        return address;
    }
}

/// <summary>Binds one TCP socket per address, all at the same port, so that every host of a kind shares one port number.</summary>
internal static class SamePortSockets
{
    /// <summary>
    /// Sockets bound (not yet listening) at the requested port on every address; port 0 takes the port the system gives
    /// the first address and tries again, up to 20 times, when it is taken on another.
    /// </summary>
    public static (int Port, IReadOnlyList<Socket> Sockets) Bind(IReadOnlyList<IPAddress> addresses, int requestedPort)
    {
        if (addresses.Count == 0) return (requestedPort, []);
        for (var attempt = 1; ; attempt++)
        {
            var port = requestedPort;
            var bound = new List<Socket>();
            try
            {
                foreach (var address in addresses)
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    bound.Add(socket);
                    socket.Bind(new IPEndPoint(address, port));
                    if (port == 0) port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                }
                return (port, bound);
            }
            catch (SocketException) when (requestedPort == 0 && attempt < 20)
            {
                foreach (var s in bound) s.Dispose();
            }
            catch
            {
                foreach (var s in bound) s.Dispose();
                throw;
            }
        }
    }
}
