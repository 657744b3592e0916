using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>One call a <see cref="WebhookReceiver"/> received: its path and query, its Standard Webhooks headers and its body.</summary>
public sealed record ReceivedWebhook(string PathAndQuery, string? Id, string? Timestamp, string? Signature, string? ContentType, string Body)
{
    /// <summary>The receiver's side of Standard Webhooks, as the README shows it: the v1 signature of "{id}.{timestamp}.{body}".</summary>
    public bool IsSignedWith(string secret) => WebhookVerification.Verify(secret, Id ?? "", Timestamp ?? "", Body, Signature ?? "");
}

/// <summary>The README's "verify a webhook" snippet, word for word, so that what it tells receivers is tested.</summary>
public static class WebhookVerification
{
    public static bool Verify(string secret, string id, string timestamp, string body, string signatureHeader)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"))));
        return signatureHeader.Split(' ').Any(signature => signature.StartsWith("v1,", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature[3..]), expected));
    }
}

/// <summary>
/// A webhook receiver on 127.0.0.1 (a <see cref="LoopbackServer"/>) that records every call and answers each with the next of
/// a script of statuses (then 200): a status of 0 never answers (a receiver that hangs) until the caller goes away, and a
/// 3xx points to /redirected.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const int Hang = 0;

    private readonly ConcurrentQueue<int> _script;
    private readonly List<ReceivedWebhook> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly CancellationTokenSource _stopping = new();

    private LoopbackServer _server = null!;

    private WebhookReceiver(IEnumerable<int> script) => _script = new ConcurrentQueue<int>(script);

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri Url { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync(params int[] script)
    {
        var receiver = new WebhookReceiver(script);
        receiver._server = await LoopbackServer.StartAsync(app => app.Run(receiver.ReceiveAsync));
        receiver.Url = receiver._server.Address;
        return receiver;
    }

    /// <summary>Waits until <paramref name="count"/> calls have arrived in all; fails after <paramref name="within"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForCallsAsync(int count, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        while (true)
        {
            lock (_received)
            {
                if (_received.Count >= count)
                {
                    return _received.ToList();
                }
            }

            try
            {
                await _arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the receiver got {Calls.Count} calls, not {count}, within {within}");
            }
        }
    }

    public IReadOnlyList<ReceivedWebhook> Calls
    {
        get
        {
            lock (_received)
            {
                return _received.ToList();
            }
        }
    }

    private async Task ReceiveAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        var call = new ReceivedWebhook(http.Request.Path + http.Request.QueryString, http.Request.Headers["webhook-id"], http.Request.Headers["webhook-timestamp"],
            http.Request.Headers["webhook-signature"], http.Request.ContentType, body);
        lock (_received)
        {
            _received.Add(call);
        }

        _arrived.Release();
        var status = _script.TryDequeue(out var next) ? next : StatusCodes.Status200OK;
        if (status == Hang)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, either.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        http.Response.StatusCode = status;
        if (status is >= 300 and < 400)
        {
            // Followed, it would show as a call to this path.
            http.Response.Headers.Location = "/redirected";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _server.DisposeAsync();
        _arrived.Dispose();
        _stopping.Dispose();
    }
}
