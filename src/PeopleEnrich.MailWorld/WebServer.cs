using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// The websites of the world on one Kestrel server: HTTP/1.1 over TCP and over TLS, every listening site at its own
/// address with the same two ports. A request is answered by the site of the address it arrived at, whatever its Host
/// header says (as a server with one site per address does), and is recorded in the world's request log.
/// </summary>
internal sealed class WebServer : IAsyncDisposable
{
    private static readonly byte[] NotFoundBody = Encoding.UTF8.GetBytes("<!doctype html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n");
    private const int SendBufferBytes = 64 * 1024;
    private readonly Dictionary<IPAddress, Website> _sitesByAddress;
    private readonly HttpRequestLog _log;
    private readonly CancellationToken _stop;
    private WebApplication? _app;

    private WebServer(IEnumerable<Website> sites, HttpRequestLog log, CancellationToken stop)
    {
        _sitesByAddress = sites.ToDictionary(s => s.Address);
        _log = log;
        _stop = stop;
    }

    public int HttpPort { get; private set; }
    public int HttpsPort { get; private set; }

    /// <summary>Binds the ports (0: one free on every site address) and starts serving; with no listening site, starts nothing.</summary>
    public static async Task<WebServer> StartAsync(IReadOnlyList<Website> websites, int httpPort, int httpsPort, X509Certificate2 certificate,
        HttpRequestLog log, CancellationToken stop)
    {
        var listening = websites.Where(s => s.Listening).ToList();
        var server = new WebServer(listening, log, stop) { HttpPort = httpPort, HttpsPort = httpsPort };
        var httpSites = listening.Where(s => s.Description.Http).ToList();
        var httpsSites = listening.Where(s => s.Description.Https).ToList();
        if (listening.Count == 0) return server;

        var (boundHttpPort, httpSockets) = SamePortSockets.Bind(httpSites.Select(s => s.Address).ToList(), httpPort);
        IReadOnlyList<Socket> httpsSockets = [];
        try
        {
            (server.HttpsPort, httpsSockets) = SamePortSockets.Bind(httpsSites.Select(s => s.Address).ToList(), httpsPort);
            server.HttpPort = boundHttpPort;
            foreach (var s in httpSites) s.HttpEndPoint = new IPEndPoint(s.Address, server.HttpPort);
            foreach (var s in httpsSites) s.HttpsEndPoint = new IPEndPoint(s.Address, server.HttpsPort);
            var sockets = httpSockets.Concat(httpsSockets).ToDictionary(s => (IPEndPoint)s.LocalEndPoint!);
            // Accepted sockets inherit this: a small kernel send buffer keeps BytesSent close to what the client took.
            foreach (var socket in sockets.Values) socket.SendBufferSize = SendBufferBytes;
            server._app = server.Build(sockets, httpSites, httpsSites, certificate);
            await server._app.StartAsync(stop);
            return server;
        }
        catch
        {
            foreach (var s in httpSockets.Concat(httpsSockets)) s.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    private WebApplication Build(Dictionary<IPEndPoint, Socket> sockets, List<Website> httpSites, List<Website> httpsSites, X509Certificate2 certificate)
    {
        // The empty builder reads no configuration and logs nowhere: the world's ports and output are its own.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        // Kestrel is handed the sockets bound while choosing the ports, so no other process can take a port in between.
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endPoint => sockets[(IPEndPoint)endPoint]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var site in httpSites)
                kestrel.Listen(site.HttpEndPoint!, l => l.Protocols = HttpProtocols.Http1);
            foreach (var site in httpsSites)
                kestrel.Listen(site.HttpsEndPoint!, l =>
                {
                    l.Protocols = HttpProtocols.Http1;
                    l.UseHttps(certificate);
                });
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Run(AnswerAsync);
        return app;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var exchange = _log.Begin(request.Host.Host.ToLowerInvariant(), request.Scheme, request.Path.Value + request.QueryString.Value,
            request.Headers.UserAgent.Count > 0 ? request.Headers.UserAgent.ToString() : null);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stop);
        try
        {
            var site = _sitesByAddress.GetValueOrDefault(context.Connection.LocalIpAddress?.MapToIPv4() ?? IPAddress.None);
            var page = site?.Find(request.IsHttps, request.Path.Value ?? "/", request.QueryString.Value ?? "");
            var head = HttpMethods.IsHead(request.Method);
            if (page is not null && !head && !HttpMethods.IsGet(request.Method))
            {
                exchange.Status = response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                response.Headers.Allow = "GET, HEAD";
                return;
            }
            exchange.Status = response.StatusCode = page?.Status ?? StatusCodes.Status404NotFound;
            response.ContentType = page?.ContentType ?? "text/html; charset=utf-8";
            if (page?.Location is { } location) response.Headers.Location = WithPorts(location);
            if (page?.BodyBytes is { } length)
            {
                response.ContentLength = length;
                var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
                if (!head) await FillerBody.WriteAsync(response.BodyWriter, length, exchange.Sent, () => socket is not null && PeerGone(socket), aborted.Token);
                return;
            }
            var body = page is null ? NotFoundBody : Encoding.UTF8.GetBytes(WithPorts(page.Body ?? ""));
            response.ContentLength = body.Length;
            if (head) return;
            await response.Body.WriteAsync(body, aborted.Token);
            exchange.Sent(body.Length);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away (or the world stopped) mid-body: what was sent so far is recorded.
        }
        finally
        {
            _log.End();
        }
    }

    /// <summary>A description cannot know the ports chosen at start: it writes {{http_port}} and {{https_port}} instead.</summary>
    private string WithPorts(string text) => text.Contains("{{", StringComparison.Ordinal)
        ? text.Replace(PortPlaceholders.Http, HttpPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
              .Replace(PortPlaceholders.Https, HttpsPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        : text;

    /// <summary>
    /// The client closed or reset the connection: its socket reads as ready with nothing to read (end of stream or
    /// an error). HTTP/1.1 clients send nothing while a response streams, so no waiting request is mistaken for this.
    /// </summary>
    private static bool PeerGone(Socket socket)
    {
        try { return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0; }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return true; }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        try { await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (TimeoutException) { /* a stuck connection must not hang the world's disposal */ }
        await _app.DisposeAsync();
        _app = null;
    }
}
