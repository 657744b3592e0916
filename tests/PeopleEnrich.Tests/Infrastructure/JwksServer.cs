using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A tiny authorization server on 127.0.0.1 (Kestrel, a free port) that publishes a JWKS document
/// at <see cref="Url"/>: what it serves can be changed (key rotation), and it counts the fetches.
/// </summary>
public sealed class JwksServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private string _json;
    private int _fetches;

    private JwksServer(WebApplication app, string json)
    {
        _app = app;
        _json = json;
    }

    /// <summary>http://127.0.0.1:port/.well-known/jwks.json</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>How many times the document was fetched.</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksServer> StartAsync(string json)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new JwksServer(app, json);
        app.Run(async http =>
        {
            if (http.Request.Path != "/.well-known/jwks.json")
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            Interlocked.Increment(ref server._fetches);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Volatile.Read(ref server._json));
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.Url = new Uri(new Uri(address), "/.well-known/jwks.json");
        return server;
    }

    /// <summary>From now on, serve <paramref name="json"/>.</summary>
    public void Serve(string json) => Volatile.Write(ref _json, json);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
