using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Answers;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Vocabulary;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// The seam proved with a provider of another shape (<see cref="LookupAdapter"/>, one lookup per person):
/// registered and chosen the way any protocol is, and asked through the same batcher, HttpClient and
/// resilience pipeline as the contract's upstreams, which retry it, keep its key out of the logs and give its answers provenance.
/// </summary>
public sealed class LookupAdapterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly Person Ada = new("Ada", "King", "engines.com", null, null);
    private static readonly Person Charles = new("Charles", "Babbage", "engines.com", null, null);

    // Timers may fire a scheduler tick early by the Stopwatch's account; nothing here is bounded from above.
    private static readonly TimeSpan TimerTolerance = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Each_person_is_looked_up_on_their_own_at_once_and_the_answer_is_evidence_with_its_observation_and_provenance()
    {
        await using var provider = await LookupProvider.StartAsync();
        provider.Answer = lookup => lookup.First == "Ada"
            ? new JsonObject { ["email"] = "Ada.King@engines.com", ["verified"] = true, ["phone"] = "+33 6 12 34 56 78" }
            : new JsonObject { ["email"] = "charles@engines.com", ["verified"] = false, ["phone"] = null };
        var key = UpstreamSettings.NewKey();
        var settings = Settings(provider, key);
        settings["Upstreams:0:BatchWindow"] = "00:10:00"; // a batch of one is full as soon as it is asked: no one waits for this
        await using var host = Host(settings, new FakeTimeProvider(Start)); // and the clock never moves

        var found = await Task.WhenAll(host.FindAsync(Ada), host.FindAsync(Charles));

        var ada = Assert.Single(found[0].Emails);
        Assert.Equal(("ada.king@engines.com", "finder", EmailObservation.UpstreamDeliverable, new UpstreamProvenance(Start, "finder", "verified")),
            (ada.Address, ada.Source, ada.Observation, ada.Provenance));
        var phone = Assert.Single(found[0].Phones);
        Assert.Equal(("+33612345678", "FR", "finder", new UpstreamProvenance(Start, "finder", null)), (phone.E164, phone.Region, phone.Source, phone.Provenance));
        var charles = Assert.Single(found[1].Emails);
        Assert.Equal((EmailObservation.Listed, new UpstreamProvenance(Start, "finder", "unverified")), (charles.Observation, charles.Provenance));
        Assert.Empty(found[1].Phones);
        Assert.Equal(
            [("ada.king@engines.com", EmailStatus.Deliverable), ("charles@engines.com", EmailStatus.Unknown)],
            Verdict.Decide(found.SelectMany(f => f.Emails), []).Emails.Select(e => (e.Email, e.Status)));

        var lookups = provider.Lookups;
        Assert.Equal([("Ada", "King", "engines.com"), ("Charles", "Babbage", "engines.com")], lookups.Select(l => (l.First!, l.Last!, l.Domain!)).Order());
        Assert.All(lookups, l => Assert.Equal((key, (string?)null), (l.ApiKey, l.Authorization)));
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_and_retried_by_the_shared_pipeline()
    {
        await using var provider = await LookupProvider.StartAsync();
        provider.ReplyToNextLookups(new ScriptedReply(429, RetryAfter: "1"));
        await using var host = Host(Settings(provider, UpstreamSettings.NewKey()));

        var found = await host.FindAsync(Ada);

        Assert.Equal(["ada.king@engines.com"], found.Emails.Select(e => e.Address));
        var lookups = provider.Lookups;
        Assert.Equal(2, lookups.Count);
        Assert.Equal(lookups[0] with { ReceivedAt = 0 }, lookups[1] with { ReceivedAt = 0 });
        Assert.True(Stopwatch.GetElapsedTime(lookups[0].ReceivedAt, lookups[1].ReceivedAt) >= TimeSpan.FromSeconds(1) - TimerTolerance,
            "the lookup was retried before the Retry-After of its refusal had passed");
    }

    [Fact]
    public async Task The_key_never_appears_in_the_logs_even_when_the_provider_repeats_it()
    {
        await using var provider = await LookupProvider.StartAsync();
        var key = UpstreamSettings.NewKey();
        provider.ReplyToNextLookups(new ScriptedReply(401, ProblemDetail: $"the key '{key}' is unknown"));
        await using var host = Host(Settings(provider, key));

        var refused = await host.FindAsync(Ada);
        var answered = await host.FindAsync(Charles);

        Assert.Equal((false, 0), (refused.Answered, refused.Emails.Count)); // a refusal is no answer, and no failure
        Assert.Equal(["charles.babbage@engines.com"], answered.Emails.Select(e => e.Address));
        var messages = host.Logs.Messages;
        // The logs did see the calls (their address, their headers) and the refusal (with what the provider said).
        Assert.Contains(messages, m => m.Contains($"GET {provider.BaseUrl}lookup", StringComparison.Ordinal)); // the factory logs the path, its query hidden
        Assert.Contains(messages, m => m.Contains("X-Api-Key", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Upstream finder gave no answer for a batch of 1: answered 401", StringComparison.Ordinal) && m.Contains("is unknown", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains(key, StringComparison.Ordinal));
    }

    private static Dictionary<string, string?> Settings(LookupProvider provider, string key) => LookupUpstream.Settings(provider, key);

    private static UpstreamSourceHost Host(Dictionary<string, string?> settings, TimeProvider? time = null) => UpstreamSourceHost.Start(settings, time, LookupUpstream.Register);
}

/// <summary>A lookup provider as an upstream: its settings, and its protocol registered as any provider's is.</summary>
public static class LookupUpstream
{
    /// <summary>Upstreams:0 named finder, speaking the lookup protocol.</summary>
    public static Dictionary<string, string?> Settings(LookupProvider provider, string key)
    {
        var settings = UpstreamSettings.For(provider.BaseUrl, key, name: "finder");
        settings["Upstreams:0:Protocol"] = LookupAdapter.Protocol;
        return settings;
    }

    public static void Register(IServiceCollection services) => services.AddUpstreamProtocol(LookupAdapter.Protocol, channel => new LookupAdapter(channel));
}

/// <summary>The app with a lookup provider as its upstream: Upstreams:0:Protocol chooses the adapter, and the item gets its answer.</summary>
public abstract class LookupUpstreamAppTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task An_upstream_whose_protocol_is_lookup_is_asked_through_its_adapter_and_the_item_completes_with_its_answer()
    {
        await using var provider = await LookupProvider.StartAsync();
        provider.Answer = lookup => new JsonObject { ["email"] = "ada.king@engines.com", ["verified"] = true, ["phone"] = "+1 202 555 0143" };
        await using var app = await TestApp.StartAsync(TProvider.Name, LookupUpstream.Settings(provider, UpstreamSettings.NewKey()), LookupUpstream.Register);
        var account = await app.CreateAccountAsync();

        var result = Assert.Single(await account.EnrichAsync(Query("Ada", "King", "engines.com")));

        Assert.Equal([("ada.king@engines.com", "DELIVERABLE")], EmailsOf(result));
        Assert.Equal([("+12025550143", "US")], PhonesOf(result));
        Assert.Equal(("Ada", "King", "engines.com"), Assert.Single(provider.Lookups.Select(l => (l.First, l.Last, l.Domain))));
    }
}

public sealed class SqliteLookupUpstreamAppTests : LookupUpstreamAppTests<Sqlite>;

public sealed class PostgresLookupUpstreamAppTests : LookupUpstreamAppTests<Postgres>;
