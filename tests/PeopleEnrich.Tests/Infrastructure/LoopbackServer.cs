using System.Collections.Concurrent;
using System.Diagnostics;
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
/// An HTTP server a test runs: Kestrel on 127.0.0.1 (a free port), with the endpoints the caller maps, noting when
/// each request arrives (Stopwatch timestamps). Scripted providers, the JWKS server and the webhook receiver run on it.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<long> _requestTimes = new();

    private LoopbackServer(WebApplication app) => _app = app;

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>When each request (of any kind) arrived, as Stopwatch timestamps.</summary>
    public IReadOnlyList<long> RequestTimes => _requestTimes.ToArray();

    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var server = new LoopbackServer(builder.Build());
        server._app.Use(next => http =>
        {
            server._requestTimes.Enqueue(Stopwatch.GetTimestamp());
            return next(http);
        });
        map(server._app);
        await server._app.StartAsync();
        server.Address = new Uri(server._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
