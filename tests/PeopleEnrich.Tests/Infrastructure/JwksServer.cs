using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A tiny authorization server on 127.0.0.1 (a <see cref="LoopbackServer"/>) that publishes a JWKS document
/// at <see cref="Url"/>: what it serves can be changed (key rotation), and it counts the fetches.
/// </summary>
public sealed class JwksServer : IAsyncDisposable
{
    private LoopbackServer _server = null!;
    private string _json;
    private int _fetches;

    private JwksServer(string json) => _json = json;

    /// <summary>http://127.0.0.1:port/.well-known/jwks.json</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>How many times the document was fetched.</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksServer> StartAsync(string json)
    {
        var server = new JwksServer(json);
        server._server = await LoopbackServer.StartAsync(app => app.Run(async http =>
        {
            if (http.Request.Path != "/.well-known/jwks.json")
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            Interlocked.Increment(ref server._fetches);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Volatile.Read(ref server._json));
        }));
        server.Url = new Uri(server._server.Address, "/.well-known/jwks.json");
        return server;
    }

    /// <summary>From now on, serve <paramref name="json"/>.</summary>
    public void Serve(string json) => Volatile.Write(ref _json, json);

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
