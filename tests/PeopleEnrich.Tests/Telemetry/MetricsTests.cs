extern alias SimulatedWorld;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Tests.Upstream;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Telemetry;

/// <summary>
/// /metrics of the server run as an operator runs it (a child process), after a batch against the simulated world
/// and a scripted upstream: the counters moved as the work went, no label names a person, a domain or a key, and
/// nothing the server printed (at Trace level) shows the API key or the upstream's key.
/// </summary>
public abstract class MetricsTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Key = "pe_metrics_test_key_0123456789abcdef";

    private static readonly WorldDescription Description = new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = "acme.test",
                Mx = [new MxDescription { Host = "mx1.acme.test" }],
                Mailboxes = ["jane.doe"],
                Website = new WebsiteDescription
                {
                    Pages =
                    [
                        new PageDescription { Path = "/", Body = "<html><body><nav><a href=\"/about\">About us</a></nav></body></html>" },
                        new PageDescription { Path = "/about", Body = "<html><body><p>We make anvils.</p></body></html>" },
                    ],
                },
            },
        ],
    };

    // What no label may hold: the people, their domain, the keys.
    private static readonly string[] Private = ["acme", "jane", "doe", "zed", "nobody", Key];

    [Fact]
    public async Task A_batch_moves_the_counters_and_no_label_or_log_line_holds_a_person_a_domain_or_a_key()
    {
        await using var world = await World.StartAsync(Description);
        await using var upstream = await ScriptedUpstream.StartAsync();
        var upstreamKey = UpstreamSettings.NewKey();
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        var settings = new Dictionary<string, string?>(WorldApp.SettingsFor(world))
        {
            ["Bootstrap:ApiKey"] = Key,
            ["RateLimit:PermitsPerSecond"] = "1000",
            // Everything the server can say, so that a key printed anywhere is seen.
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        };
        foreach (var (key, value) in UpstreamSettings.For(upstream.BaseUrl, upstreamKey, name: "peer"))
        {
            settings[key] = value;
        }

        await using var server = await ProgramRunner.StartServerAsync(database, settings);
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);

        var requestId = await SubmitAsync(http, new
        {
            requests = new[]
            {
                new { firstname = "Jane", lastname = "Doe", domain = "acme.test", enrich_fields = new[] { "contact.emails", "contact.phones" } },
                new { firstname = "Zed", lastname = "Nobody", domain = "acme.test", enrich_fields = new[] { "contact.emails", "contact.phones" } },
            },
        });
        Assert.Equal("COMPLETED", (await ServerBatches.WaitForCompletionAsync(http, requestId, TimeSpan.FromMinutes(2)))["status"]!.GetValue<string>());
        var used = (await http.GetFromJsonAsync<JsonNode>("/api/v2/credits"))!["credits"]![0]!["used_credits"]!.GetValue<long>();

        // No key: Prometheus scrapes as /healthz is probed.
        using var anonymous = new HttpClient { BaseAddress = server.Url };
        using var response = await anonymous.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var metrics = PrometheusText.Parse(text);

        Assert.Equal(2, metrics.Sum("peopleenrich_items_settled_total", "status=completed"));
        Assert.Equal(0, metrics.Sum("peopleenrich_items_settled_total", "status=failed"));
        Assert.True(used > 0, "the batch was charged nothing: Jane's address is there to be found");
        Assert.Equal(used, metrics.Sum("peopleenrich_credits_charged_total"));

        // Every item asked the cache first (and missed), then the sources in turn.
        Assert.Equal(2, metrics.Sum("peopleenrich_source_outcomes_total", "source=cache", "outcome=empty"));
        Assert.True(metrics.Sum("peopleenrich_source_outcomes_total", "source=email-finder", "outcome=found") >= 1, text);
        Assert.True(metrics.Sum("peopleenrich_source_outcomes_total", "source=website") >= 2, text);
        Assert.True(metrics.Sum("peopleenrich_source_outcomes_total", "source=peer") >= 1, text);
        Assert.Equal(metrics.Sum("peopleenrich_source_outcomes_total"), metrics.Sum("peopleenrich_source_duration_seconds_count"));

        // The finder's conversation: RCPTs sent, answered "yes" for Jane and "no" for Zed's guesses, at a host's session.
        var rcpt = metrics.Sum("peopleenrich_smtp_rcpt_total");
        Assert.True(rcpt > 0, text);
        Assert.True(metrics.Sum("peopleenrich_smtp_replies_total", "step=rcpt", "class=accepted") >= 1, text);
        Assert.True(metrics.Sum("peopleenrich_smtp_replies_total", "step=rcpt", "class=rejected") >= 1, text);
        Assert.True(rcpt >= metrics.Sum("peopleenrich_smtp_replies_total", "step=rcpt"), "more RCPT replies than RCPT commands");
        Assert.True(metrics.Sum("peopleenrich_smtp_sessions_total") >= 1, text);
        Assert.True(metrics.Sum("peopleenrich_website_pages_total", "outcome=page") >= 1, text);
        Assert.True(metrics.Sum("peopleenrich_upstream_calls_total", "upstream=peer", "outcome=ok") >= 1, text);

        // Everything settled: the queue, as the database holds it, is empty.
        Assert.Single(metrics.Matching("peopleenrich_queue_items", "state=ready"));
        Assert.Equal(0, metrics.Sum("peopleenrich_queue_items"));
        Assert.Equal(0, metrics.Sum("peopleenrich_queue_oldest_ready_age_seconds"));
        Assert.Equal(0, metrics.Sum("peopleenrich_leases_taken_over_total"));

        var labelValues = metrics.Samples.SelectMany(sample => sample.Labels.Values).Distinct().ToList();
        foreach (var secret in Private.Append(upstreamKey).Append(requestId))
        {
            Assert.DoesNotContain(labelValues, value => value.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }

        // The worker's lines say which item they are about (a logging scope), and no line shows a key.
        var output = string.Join('\n', server.Lines);
        Assert.Contains($"=> Request {requestId} item 0", output);
        Assert.DoesNotContain(Key, output);
        Assert.DoesNotContain(upstreamKey, output);
        Assert.NotEmpty(upstream.Submissions); // the upstream was asked, with its key: it was there to leak
    }

    [Fact]
    public async Task The_queue_gauges_count_what_waits_in_the_database()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        // An API-only process: what it accepts waits, and its gauges say so.
        await using var server = await ProgramRunner.StartServerAsync(database, new Dictionary<string, string?>
        {
            ["Bootstrap:ApiKey"] = Key,
            ["Workers:Enabled"] = "false",
        });
        using var http = new HttpClient { BaseAddress = server.Url };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
        await SubmitAsync(http, People.Batch(3));

        var metrics = PrometheusText.Parse(await http.GetStringAsync("/metrics"));
        Assert.Equal(3, metrics.Sum("peopleenrich_queue_items", "state=ready"));
        Assert.Equal(0, metrics.Sum("peopleenrich_queue_items", "state=running"));
        Assert.Equal(0, metrics.Sum("peopleenrich_queue_items", "state=put_off"));
        // Accepted before this scrape was asked for, so waiting for more than nothing.
        Assert.True(metrics.Sum("peopleenrich_queue_oldest_ready_age_seconds") > 0);
        Assert.Equal(0, metrics.Sum("peopleenrich_items_settled_total"));
    }

    [Fact]
    public async Task Metrics_disabled_leave_no_metrics_endpoint()
    {
        await using var app = await TestApp.StartAsync(TProvider.Name, new Dictionary<string, string?> { ["Metrics:Enabled"] = "false" });
        using var response = await app.Client().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_bound_to_a_port_of_their_own_are_served_there_only()
    {
        var metricsPort = UnusedLoopbackPort();
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        // Two endpoints, as an operator would give them: the API's (any free port) and the scraper's.
        await using var server = await ProgramRunner.StartServerAsync(database, new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Metrics:Url"] = $"http://127.0.0.1:{metricsPort}",
            ["Metrics:Port"] = $"{metricsPort}",
        });
        Assert.NotEqual(metricsPort, server.Url.Port);

        using var http = new HttpClient();
        using var onApiPort = await http.GetAsync(new Uri(server.Url, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, onApiPort.StatusCode);
        using var onMetricsPort = await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Equal(HttpStatusCode.OK, onMetricsPort.StatusCode);
        Assert.Contains("peopleenrich_queue_items", await onMetricsPort.Content.ReadAsStringAsync());
    }

    private static int UnusedLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<string> SubmitAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/api/v2/people/enrich", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonNode.Parse(text)!["request_id"]!.GetValue<string>();
    }
}

public sealed class SqliteMetricsTests : MetricsTests<Sqlite>;

public sealed class PostgresMetricsTests : MetricsTests<Postgres>;
