extern alias SimulatedWorld;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Tests.Upstream;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Telemetry;

/// <summary>
/// A trace runs from the POST (which may continue the caller's own trace) through the worker's span for each item
/// to a span per source asked: seen in this process by an activity listener, and as a collector receives it over
/// OTLP from the server run as a child process.
/// </summary>
public abstract class TracesTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Key = "pe_traces_test_key_0123456789abcdef";

    private static readonly WorldDescription Description = new()
    {
        Domains = [new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx1.acme.test" }], Mailboxes = ["jane.doe"] }],
    };

    [Fact]
    public async Task Each_items_span_is_a_child_of_the_post_and_each_source_asked_is_a_child_of_the_item()
    {
        var caller = ActivityTraceId.CreateRandom();
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is Instruments.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                // Other tests' apps run in this process too: keep this test's trace only.
                if (activity.TraceId == caller)
                {
                    stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var app = await WorldApp.StartAsync(TProvider.Name, Description);
        var account = await app.App.CreateAccountAsync();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v2/people/enrich")
        {
            Content = JsonContent.Create(People.Batch(People.Person("Jane", "Doe", "acme.test"), People.Person("Zed", "Nobody", "acme.test"))),
        };
        submit.Headers.TryAddWithoutValidation("traceparent", $"00-{caller}-{callerSpan}-01");
        using var response = await account.Http.SendAsync(submit);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var requestId = (await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>();
        await account.WaitForCompletionAsync(requestId);

        var post = Assert.Single(stopped, a => a.Source.Name == "Microsoft.AspNetCore" && a.ParentSpanId == callerSpan);
        var items = stopped.Where(a => a.OperationName == "enrich item").ToList();
        Assert.Equal(2, items.Count);
        Assert.All(items, item =>
        {
            Assert.Equal(post.SpanId, item.ParentSpanId);
            Assert.Equal(requestId, item.GetTagItem("peopleenrich.request_id"));
        });
        Assert.Equal([0L, 1L], items.Select(item => (long)item.GetTagItem("peopleenrich.item_index")!).Order());

        var sources = stopped.Where(a => a.OperationName.StartsWith("source ", StringComparison.Ordinal)).ToList();
        Assert.All(sources, source => Assert.Contains(items, item => item.SpanId == source.ParentSpanId));
        foreach (var item in items)
        {
            // Each item asked the email finder (the only source that can answer in this world), under its own span.
            Assert.Contains(sources, source => source.ParentSpanId == item.SpanId && source.OperationName == "source email-finder"
                && source.GetTagItem("peopleenrich.outcome") is SourceOutcome.Found or SourceOutcome.Empty);
        }
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_server_exports_the_requests_trace_to_the_collector()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        await using var collector = await LoopbackServer.StartAsync(app => app.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path, http.Request.ContentType, body.ToArray()));
            // An empty protobuf message is the whole of a successful export's answer.
            http.Response.ContentType = "application/x-protobuf";
        }));

        await using var world = await World.StartAsync(Description);
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        var settings = new Dictionary<string, string?>(WorldApp.SettingsFor(world))
        {
            ["Bootstrap:ApiKey"] = Key,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Sent within a fraction of a second, not after the default 5 s (spans) and 60 s (metrics).
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        };
        await using var server = await ProgramRunner.StartServerAsync(database, settings);
        using var http = new HttpClient { BaseAddress = server.Url };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);

        var caller = ActivityTraceId.CreateRandom();
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v2/people/enrich")
        {
            Content = JsonContent.Create(People.Batch(People.Person("Jane", "Doe", "acme.test"))),
        };
        submit.Headers.TryAddWithoutValidation("traceparent", $"00-{caller}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await http.SendAsync(submit);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // The trace id travels as its 16 bytes, the span names as UTF-8: found in the protobuf without decoding it.
        var traceId = Convert.FromHexString(caller.ToHexString());
        string[] spans = ["enrich item", "source email-finder"];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        bool Exported() => spans.All(name => received.Any(r => r.Path == "/v1/traces"
            && r.Body.AsSpan().IndexOf(traceId) >= 0 && r.Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(name)) >= 0));
        while (!Exported() || !received.Any(r => r.Path == "/v1/metrics"))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the collector did not get the request's spans and the metrics; it got: {string.Join(", ", received.Select(r => $"{r.Path} ({r.Body.Length} bytes)"))}\n{server.Tail(30)}");
            await Task.Delay(100);
        }

        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        // Scrapes and probes are not traced: no span names /readyz, which the start-up polled.
        Assert.DoesNotContain(received, r => r.Path == "/v1/traces" && r.Body.AsSpan().IndexOf("/readyz"u8) >= 0);
    }
}

public sealed class SqliteTracesTests : TracesTests<Sqlite>;

public sealed class PostgresTracesTests : TracesTests<Postgres>;
