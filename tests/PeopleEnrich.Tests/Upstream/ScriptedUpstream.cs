using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>What a scripted provider answers a request instead of accepting it; <see cref="Hang"/>: nothing, ever.</summary>
public sealed record ScriptedReply(int Status, string? RetryAfter = null, string? ProblemDetail = null, bool Hang = false)
{
    public static ScriptedReply Silence { get; } = new(0, Hang: true);

    /// <summary>This reply: its status, Retry-After and problem; or, for <see cref="Silence"/>, nothing until the client gives up.</summary>
    public async Task<IResult> RespondAsync(HttpContext http)
    {
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return Results.Empty;
        }

        if (RetryAfter is not null)
        {
            http.Response.Headers.RetryAfter = RetryAfter;
        }

        return Results.Problem(statusCode: Status, detail: ProblemDetail);
    }
}

/// <summary>A submission as the scripted upstream received it (<see cref="ReceivedAt"/> is a Stopwatch timestamp).</summary>
public sealed record ReceivedSubmission(long ReceivedAt, string? IdempotencyKey, string? Authorization, JsonObject Body)
{
    public IReadOnlyList<JsonObject> People => Body["requests"]!.AsArray().Select(p => p!.AsObject()).ToList();
}

/// <summary>
/// An upstream that speaks the contract, on 127.0.0.1 (Kestrel, a free port), whose answers the test
/// writes: submissions can be refused in turn (429 with Retry-After, 500, 401…) before one is accepted;
/// each person's result is <see cref="Answer"/>'s; a batch stays PROCESSING for <see cref="ProcessingPolls"/> polls.
/// A retried submission under an Idempotency-Key it accepted before gets the same request id back.
/// </summary>
public sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<ScriptedReply> _replies = new();
    private readonly ConcurrentQueue<ReceivedSubmission> _submissions = new();
    private readonly ConcurrentQueue<string?> _preferHeaders = new();
    private readonly ConcurrentDictionary<string, AcceptedBatch> _batches = new();
    private readonly ConcurrentDictionary<string, string> _keys = new();
    private LoopbackServer _server = null!;

    /// <summary>http://127.0.0.1:port/api: the contract's server URL.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Each person's item (without enrichment_type and status, which are filled in): by default, first.last@domain, DELIVERABLE.</summary>
    public Func<JsonObject, JsonObject> Answer { get; set; } = person => new JsonObject
    {
        ["emails"] = new JsonArray(new JsonObject { ["email"] = DefaultAddress(person), ["status"] = "DELIVERABLE" }),
    };

    /// <summary>How many polls of each batch are answered PROCESSING before it completes.</summary>
    public int ProcessingPolls { get; set; }

    public IReadOnlyList<ReceivedSubmission> Submissions => _submissions.ToArray();

    /// <summary>When each request (of any kind) arrived, as Stopwatch timestamps.</summary>
    public IReadOnlyList<long> RequestTimes => _server.RequestTimes;

    /// <summary>The Prefer header of each poll, in order (null when none was sent).</summary>
    public IReadOnlyList<string?> PreferHeaders => _preferHeaders.ToArray();

    public static string DefaultAddress(JsonObject person) =>
        $"{person["firstname"]}.{person["lastname"]}@{person["domain"]}".ToLowerInvariant();

    public static async Task<ScriptedUpstream> StartAsync()
    {
        var upstream = new ScriptedUpstream();
        upstream._server = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/api/v2/people/enrich", (Func<HttpContext, Task<IResult>>)upstream.SubmitAsync);
            app.MapGet("/api/v2/people/enrich/{id}", (Func<string, HttpContext, IResult>)upstream.Poll);
        });
        upstream.BaseUrl = new Uri(upstream._server.Address, "/api");
        return upstream;
    }

    /// <summary>The next submissions get these answers, one each, in order; the ones after are accepted.</summary>
    public void ReplyToNextSubmissions(params ScriptedReply[] replies)
    {
        foreach (var reply in replies)
        {
            _replies.Enqueue(reply);
        }
    }

    private async Task<IResult> SubmitAsync(HttpContext http)
    {
        var received = Stopwatch.GetTimestamp();
        var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
        var key = http.Request.Headers["Idempotency-Key"].SingleOrDefault();
        var submission = new ReceivedSubmission(received, key, http.Request.Headers.Authorization.SingleOrDefault(), body);
        _submissions.Enqueue(submission);
        if (_replies.TryDequeue(out var reply))
        {
            return await reply.RespondAsync(http);
        }

        var people = submission.People;
        var id = key is not null && _keys.TryGetValue(key, out var known) ? known : Guid.NewGuid().ToString();
        _batches.TryAdd(id, new AcceptedBatch(people));
        if (key is not null)
        {
            _keys.TryAdd(key, id);
        }

        return Results.Json(new JsonObject { ["request_id"] = id, ["status"] = "PROCESSING", ["item_count"] = people.Count }, statusCode: StatusCodes.Status202Accepted);
    }

    private IResult Poll(string id, HttpContext http)
    {
        _preferHeaders.Enqueue(http.Request.Headers["Prefer"].SingleOrDefault());
        if (!_batches.TryGetValue(id, out var batch))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound);
        }

        var done = Interlocked.Increment(ref batch.Polls) > ProcessingPolls;
        var results = new JsonArray(batch.People.Select(person =>
        {
            var fields = string.Join(",", person["enrich_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
            var item = done ? Answer(person) : new JsonObject();
            item["enrichment_type"] = fields;
            item["status"] = done ? "COMPLETED" : "PROCESSING";
            return (JsonNode)item;
        }).ToArray());
        return Results.Json(new JsonObject
        {
            ["request_id"] = id,
            ["status"] = done ? "COMPLETED" : "PROCESSING",
            ["item_count"] = batch.People.Count,
            ["results"] = results,
        });
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private sealed class AcceptedBatch(IReadOnlyList<JsonObject> people)
    {
        public int Polls;

        public IReadOnlyList<JsonObject> People { get; } = people;
    }
}
