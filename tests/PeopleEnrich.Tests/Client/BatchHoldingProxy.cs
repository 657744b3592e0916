using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Client;

/// <summary>
/// A forwarding HTTP proxy on 127.0.0.1 (a <see cref="LoopbackServer"/>) in front of a server of the contract. Every
/// request and answer passes unchanged, except batch submissions once one has been accepted: those are held, never
/// forwarded, and dropped when the proxy is disposed. So a test that stops a client while its next batch is held
/// knows, without timing, that the server has that client's first batch and no other.
/// </summary>
public sealed class BatchHoldingProxy : IAsyncDisposable
{
    // The contract's submission (POST /api/v2/people/enrich, answered 202 Accepted when a batch is stored).
    private const string SubmissionPath = "/api/v2/people/enrich";

    // They describe one connection, not the message: each side writes its own.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Host",
    };

    private readonly Uri _upstream;
    private readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false })
    {
        // The client's own timeout decides; the proxy never gives up first.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly TaskCompletionSource _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _dropHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LoopbackServer _server = null!;
    private volatile bool _oneAccepted;

    private BatchHoldingProxy(Uri upstream) => _upstream = upstream;

    /// <summary>http://127.0.0.1:port/, to give the client instead of the server's address.</summary>
    public Uri Address => _server.Address;

    /// <summary>Completes when a submission made after an accepted one (the second batch) has arrived and is held.</summary>
    public Task SecondBatchHeld => _firstHeld.Task;

    public static async Task<BatchHoldingProxy> StartAsync(Uri upstream)
    {
        var proxy = new BatchHoldingProxy(upstream);
        proxy._server = await LoopbackServer.StartAsync(app => app.Run(proxy.HandleAsync));
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        _dropHeld.TrySetResult();
        await _server.DisposeAsync();
        _client.Dispose();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var submission = HttpMethods.IsPost(http.Request.Method) && http.Request.Path == SubmissionPath;
        if (submission && _oneAccepted)
        {
            await HoldThenDropAsync(http);
            return;
        }

        using var request = ToUpstream(http);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        // Noted before the client can read the answer: its next submission cannot arrive before this.
        if (submission && response.StatusCode == HttpStatusCode.Accepted)
        {
            _oneAccepted = true;
        }

        await ToClientAsync(response, http);
    }

    private async Task HoldThenDropAsync(HttpContext http)
    {
        _firstHeld.TrySetResult();
        try
        {
            await _dropHeld.Task.WaitAsync(http.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away first (it was killed): nothing left to drop.
        }

        http.Abort();
    }

    private HttpRequestMessage ToUpstream(HttpContext http)
    {
        var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), new Uri(_upstream, http.Request.GetEncodedPathAndQuery()));
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            request.Content = new StreamContent(http.Request.Body);
        }

        foreach (var (name, values) in http.Request.Headers.Where(h => !HopByHop.Contains(h.Key)))
        {
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        return request;
    }

    private static async Task ToClientAsync(HttpResponseMessage response, HttpContext http)
    {
        http.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers).Where(h => !HopByHop.Contains(h.Key)))
        {
            http.Response.Headers[name] = values.ToArray();
        }

        await response.Content.CopyToAsync(http.Response.Body, http.RequestAborted);
    }
}
