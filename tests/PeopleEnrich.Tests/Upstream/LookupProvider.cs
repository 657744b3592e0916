using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>A lookup as the provider received it (<see cref="ReceivedAt"/> is a Stopwatch timestamp).</summary>
public sealed record ReceivedLookup(long ReceivedAt, string? First, string? Last, string? Domain, string? ApiKey, string? Authorization);

/// <summary>
/// A made-up provider whose API is nothing like our contract, on 127.0.0.1: one synchronous lookup per
/// person, <c>GET /lookup?first=…&amp;last=…&amp;domain=…</c> with the key in X-Api-Key, answering
/// <c>{"email": "…", "verified": true, "phone": "…"}</c>. Lookups can be refused in turn (429 with
/// Retry-After, 401…) before they are answered, by <see cref="Answer"/> (by default first.last@domain, verified, no phone).
/// </summary>
public sealed class LookupProvider : IAsyncDisposable
{
    private readonly ConcurrentQueue<ScriptedReply> _replies = new();
    private readonly ConcurrentQueue<ReceivedLookup> _lookups = new();
    private LoopbackServer _server = null!;

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseUrl => _server.Address;

    public Func<ReceivedLookup, JsonObject> Answer { get; set; } = lookup => new JsonObject
    {
        ["email"] = $"{lookup.First}.{lookup.Last}@{lookup.Domain}".ToLowerInvariant(),
        ["verified"] = true,
        ["phone"] = null,
    };

    public IReadOnlyList<ReceivedLookup> Lookups => _lookups.ToArray();

    public static async Task<LookupProvider> StartAsync()
    {
        var provider = new LookupProvider();
        provider._server = await LoopbackServer.StartAsync(app => app.MapGet("/lookup", (Func<HttpContext, Task<IResult>>)provider.LookupAsync));
        return provider;
    }

    /// <summary>The next lookups get these answers, one each, in order; the ones after are answered.</summary>
    public void ReplyToNextLookups(params ScriptedReply[] replies) => Array.ForEach(replies, _replies.Enqueue);

    private async Task<IResult> LookupAsync(HttpContext http)
    {
        var query = http.Request.Query;
        var lookup = new ReceivedLookup(Stopwatch.GetTimestamp(), query["first"], query["last"], query["domain"],
            http.Request.Headers["X-Api-Key"].SingleOrDefault(), http.Request.Headers.Authorization.SingleOrDefault());
        _lookups.Enqueue(lookup);
        return _replies.TryDequeue(out var reply) ? await reply.RespondAsync(http) : Results.Json(Answer(lookup));
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
