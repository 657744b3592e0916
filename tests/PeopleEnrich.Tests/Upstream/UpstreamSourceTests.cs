using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PeopleEnrich.Tests.EmailFinder;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// The app with a scripted upstream (on 127.0.0.1) as the last source of its waterfall, through the
/// app's API: retries, the fields an upstream is trusted for, its key kept out of the logs, its settings checked at start.
/// </summary>
public abstract class UpstreamSourceTests<TProvider> where TProvider : IDatabaseProvider
{
    // Timers may fire a scheduler tick early by the Stopwatch's account; no test here bounds anything from above.
    private static readonly TimeSpan TimerTolerance = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task An_upstream_answering_429_with_Retry_After_then_500_then_accepting_gets_one_batch_and_the_item_completes_with_its_answer()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.ReplyToNextSubmissions(new ScriptedReply(429, RetryAfter: "1"), new ScriptedReply(500));
        upstream.ProcessingPolls = 1;
        upstream.Answer = person => new JsonObject
        {
            ["emails"] = new JsonArray(new JsonObject { ["email"] = ScriptedUpstream.DefaultAddress(person), ["status"] = "HIGH_PROBABILITY" }),
            ["phones"] = new JsonArray(new JsonObject { ["number"] = "+33 6 12 34 56 78", ["region"] = "FR" }),
        };
        var key = UpstreamSettings.NewKey();
        await using var app = await TestApp.StartAsync(TProvider.Name, UpstreamSettings.For(upstream.BaseUrl, key));
        var account = await app.CreateAccountAsync();

        var result = Assert.Single(await account.EnrichAsync(Query("Ada", "King", "engines.com")));

        Assert.Equal([("ada.king@engines.com", "HIGH_PROBABILITY")], EmailsOf(result));
        Assert.Equal("ada.king@engines.com", result["most_probable_email"]!.GetValue<string>());
        Assert.Equal([("+33612345678", "FR")], PhonesOf(result));
        Assert.Equal(1 + 10, (await account.CreditsAsync()).Used); // both found: charged as our own findings are

        var submissions = upstream.Submissions;
        Assert.Equal(3, submissions.Count);
        var idempotencyKey = Assert.Single(submissions.Select(s => s.IdempotencyKey).Distinct());
        Assert.False(string.IsNullOrEmpty(idempotencyKey));
        Assert.Single(submissions.Select(s => s.Body.ToJsonString()).Distinct());
        Assert.All(submissions, s => Assert.Equal(key, s.Authorization));
        Assert.True(Stopwatch.GetElapsedTime(submissions[0].ReceivedAt, submissions[1].ReceivedAt) >= TimeSpan.FromSeconds(1) - TimerTolerance,
            "the second submission came before the Retry-After of the first answer had passed");
        var person = Assert.Single(submissions[0].People);
        Assert.Equal(("Ada", "King", "engines.com"), (person["firstname"]!.GetValue<string>(), person["lastname"]!.GetValue<string>(), person["domain"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_upstream_that_keeps_failing_has_its_circuit_opened_and_the_items_asked_meanwhile_complete_without_calling_it_saying_so()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.ReplyToNextSubmissions(Enumerable.Repeat(new ScriptedReply(503), 20).ToArray());
        var logs = new CapturedLogs();
        await using var app = await TestApp.StartAsync(TProvider.Name, UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey()),
            services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.CreateAccountAsync();

        // Four attempts for the first (the try and 3 retries); the fifth failure in a row opens the circuit,
        // so the second person's retry and everything for the third stay here.
        foreach (var name in new[] { "Ada", "Charles", "Grace" })
        {
            var result = Assert.Single(await account.EnrichAsync(Query(name, "King", "engines.com")));
            Assert.Empty(EmailsOf(result));
            Assert.Empty(PhonesOf(result));
            // Not "nothing found": the answer says the upstream could not be asked.
            Assert.StartsWith("Could not check: the upstream provider peer did not answer: ", result["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(5, upstream.Submissions.Count);
        Assert.Contains(logs.Messages, m => m.Contains("Upstream peer gave no answer for a batch of 1: its circuit is open", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upstream_no_connection_can_be_made_to_is_said_in_plain_words_and_the_exceptions_words_only_logged()
    {
        // Nothing listens on the discard port: the connection is refused, and the exception names the address tried.
        var settings = UpstreamSettings.For(new Uri("http://127.0.0.1:9/"), UpstreamSettings.NewKey());
        settings["Upstreams:0:MaxRetries"] = "0"; // a failure an attempt: the circuit stays closed, and the last attempt's words are the answer's
        var logs = new CapturedLogs();
        await using var app = await TestApp.StartAsync(TProvider.Name, settings, services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.CreateAccountAsync();

        var result = Assert.Single(await account.EnrichAsync(Query("Ada", "King", "engines.com")));

        Assert.Equal("Could not check: the upstream provider peer did not answer: no connection could be made to it", result["error"]!.GetValue<string>());
        // The operator reads what happened, address and all.
        Assert.Contains(logs.Messages, m => m.Contains("Upstream peer gave no answer for a batch of 1: the request failed: ", StringComparison.Ordinal) && m.Contains("127.0.0.1:9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upstream_that_never_answers_is_given_up_on_after_its_time_out_and_the_item_completes_saying_so()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.ReplyToNextSubmissions(Enumerable.Repeat(ScriptedReply.Silence, 10).ToArray());
        var settings = UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey());
        settings["Upstreams:0:AttemptTimeout"] = "00:00:01";
        settings["Upstreams:0:Timeout"] = "00:00:03";
        var logs = new CapturedLogs();
        await using var app = await TestApp.StartAsync(TProvider.Name, settings, services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.CreateAccountAsync();

        var result = Assert.Single(await account.EnrichAsync(Query("Ada", "King", "engines.com")));

        Assert.Empty(EmailsOf(result));
        // Asked again after Waterfall:OutageRetryAfter; by then its circuit may be open: either way, said.
        Assert.StartsWith("Could not check: the upstream provider peer did not answer: ", result["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEmpty(upstream.Submissions);
        Assert.Contains(logs.Messages, m => m.Contains("Upstream peer gave no answer for a batch of 1: it did not answer in time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upstream_is_asked_only_for_the_fields_it_is_trusted_for_and_not_at_all_when_none_is_wanted()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Answer = person => new JsonObject
        {
            ["emails"] = new JsonArray(new JsonObject { ["email"] = ScriptedUpstream.DefaultAddress(person), ["status"] = "DELIVERABLE" }),
            ["phones"] = new JsonArray(new JsonObject { ["number"] = "+12025550143", ["region"] = "US" }),
        };
        var settings = UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey());
        settings["Upstreams:0:Fields:0"] = "contact.phones";
        await using var app = await TestApp.StartAsync(TProvider.Name, settings);
        var account = await app.CreateAccountAsync();

        var results = await account.EnrichAsync(
            Query("Ada", "King", "engines.com"),
            Query("Charles", "Babbage", "engines.com", fields: Emails));

        var submission = Assert.Single(upstream.Submissions);
        var asked = Assert.Single(submission.People);
        Assert.Equal("Ada", asked["firstname"]!.GetValue<string>());
        Assert.Equal(["contact.phones"], asked["enrich_fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Empty(EmailsOf(results[0])); // it answered emails too, but is not trusted for them
        Assert.Equal([("+12025550143", "US")], PhonesOf(results[0]));
        Assert.Empty(EmailsOf(results[1]));
    }

    [Fact]
    public async Task The_upstreams_key_never_appears_in_the_logs_even_when_the_upstream_repeats_it()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var key = UpstreamSettings.NewKey();
        upstream.ReplyToNextSubmissions(new ScriptedReply(401, ProblemDetail: $"the key '{key}' is unknown"));
        var settings = UpstreamSettings.For(upstream.BaseUrl, key);
        settings["Logging:LogLevel:Default"] = "Trace"; // headers are logged at Trace, if anywhere
        var logs = new CapturedLogs();
        await using var app = await TestApp.StartAsync(TProvider.Name, settings, services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.CreateAccountAsync();

        var refused = Assert.Single(await account.EnrichAsync(Query("Ada", "King", "engines.com")));
        var answered = Assert.Single(await account.EnrichAsync(Query("Charles", "Babbage", "engines.com")));

        Assert.Empty(EmailsOf(refused)); // a refusal is no answer, and no failure, but it is said
        Assert.Equal("Could not check: the upstream provider peer refused our key", refused["error"]!.GetValue<string>());
        Assert.Null(answered["error"]);
        Assert.Equal([("charles.babbage@engines.com", "DELIVERABLE")], EmailsOf(answered));
        var messages = logs.Messages;
        // The logs did see the calls (their address, their headers) and the refusal (with what the upstream said).
        Assert.Contains(messages, m => m.Contains($"POST {upstream.BaseUrl}/v2/people/enrich", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Authorization", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Upstream peer gave no answer for a batch of 1: answered 401", StringComparison.Ordinal) && m.Contains("is unknown", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_server_refuses_to_start_with_bad_upstream_settings_and_says_which_key_is_wrong()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        var key = UpstreamSettings.NewKey();
        var environment = ProgramRunner.EnvironmentFor(database);
        environment["Upstreams__0__Name"] = "peer";
        environment["Upstreams__0__BaseUrl"] = "ftp://peer.example/api";
        environment["Upstreams__0__ApiKey"] = key;
        environment["Upstreams__0__Fields__0"] = "contact.phone";
        environment["Upstreams__0__Protocol"] = "carrier-pigeon";

        var result = await ProgramRunner.RunAsync(["--urls", "http://127.0.0.1:0"], environment);

        Assert.NotEqual(0, result.ExitCode);
        var output = result.StandardOutput + result.StandardError;
        Assert.Contains("Upstreams:0:BaseUrl must be an absolute http:// or https:// URL", output);
        Assert.Contains("Upstreams:0:Fields:0 must be contact.emails or contact.phones.", output);
        Assert.Contains("Upstreams:0:Protocol must be one of: contract.", output);
        Assert.DoesNotContain(key, output);
    }
}

public sealed class SqliteUpstreamSourceTests : UpstreamSourceTests<Sqlite>;

public sealed class PostgresUpstreamSourceTests : UpstreamSourceTests<Postgres>;
