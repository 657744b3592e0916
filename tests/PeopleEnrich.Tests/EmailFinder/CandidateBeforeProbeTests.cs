extern alias SimulatedWorld;

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// At a cold domain the lane asks its likeliest candidate before the catch-all probe: a "no such mailbox" to it says the
/// server rejects addresses that do not exist, which is all the probe would have said, so the probe is not asked, here or
/// by any lane or process after. Anything else (an acceptance) asks the probe next, and counts only once it is rejected.
/// </summary>
public abstract class CandidateBeforeProbeTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Domain = "acme.test";
    private const string Host = "mx.acme.test";

    // flast: Ada's first candidate (ada.lovelace, the likeliest shape) has no mailbox, her second (alovelace) has.
    private static readonly WorldDescription Flast = new()
    {
        Domains = [new DomainDescription { Name = Domain, Mx = [new MxDescription { Host = Host }], Mailboxes = ["alovelace", "ghopper"] }],
    };

    [Fact]
    public async Task A_cold_domain_whose_first_candidate_has_no_mailbox_is_never_asked_the_probe()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, Flast);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Ada", "Lovelace", Domain, null, Emails));

        Assert.Equal([("alovelace@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        var host = app.World.Host(Host);
        Assert.Equal(0, DomainLaneTests<TProvider>.ProbesAsked(host));
        Assert.Equal(2, host.RcptCommands); // ada.lovelace ("no such mailbox": not catch-all), then alovelace
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task At_Microsoft_365_one_recipient_a_session_the_directorys_rejection_stands_for_the_probe()
    {
        // Microsoft 365 takes one recipient a session, and its directory-based edge blocking answers an unknown one
        // "550 5.4.1 Recipient address rejected: Access denied": a "no such mailbox" too, so no probe is asked there either.
        const string M365Host = "acme-test.mail.protection.outlook.test";
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = Domain, Mx = [new MxDescription { Host = M365Host }], Behaviour = Behaviour.M365, Mailboxes = ["alovelace"] }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Ada", "Lovelace", Domain, null, Emails));

        Assert.Equal([("alovelace@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        var host = app.World.Host(M365Host);
        Assert.Equal(0, DomainLaneTests<TProvider>.ProbesAsked(host));
        // Her likeliest candidate opened the domain; a second session may have asked her next one while alovelace was answered.
        var asked = host.Transcript.Rcpts.Select(l => l.Text).ToList();
        Assert.Equal("RCPT TO:<ada.lovelace@acme.test>", asked[0]);
        Assert.Contains("RCPT TO:<alovelace@acme.test>", asked);
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task A_catch_all_domain_is_still_found_catch_all_for_a_second_RCPT()
    {
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = Domain, Mx = [new MxDescription { Host = Host }], Behaviour = Behaviour.CatchAll, Mailboxes = ["ada.lovelace"] }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Ada", "Lovelace", Domain, null, Emails));

        // Her first candidate was accepted, which says nothing until the probe is: the probe was accepted too.
        Assert.DoesNotContain(EmailsOf(results[0]), e => e.Status == "DELIVERABLE");
        Assert.Equal([("ada.lovelace@acme.test", "CATCH_ALL")], EmailsOf(results[0]));
        var host = app.World.Host(Host);
        Assert.Equal(1, DomainLaneTests<TProvider>.ProbesAsked(host));
        Assert.Equal(2, host.RcptCommands);
    }

    /// <summary>
    /// A person whose only candidate is accepted as the lane's opener waits for the probe, asked next, as any acceptance
    /// heard before it does: not finished with no probe answered, which would be said "the mail servers did not answer"
    /// and put off as an outage.
    /// </summary>
    [Fact]
    public async Task A_person_whose_only_candidate_is_accepted_before_the_probe_waits_for_it_and_is_found_at_once()
    {
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = Domain, Mx = [new MxDescription { Host = Host }], Mailboxes = ["ada.lovelace"] }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxCandidates"] = "1" });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Ada", "Lovelace", Domain, null, Emails));

        Assert.Equal([("ada.lovelace@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Null(results[0]["error"]);
        Assert.Equal(1, DomainLaneTests<TProvider>.ProbesAsked(app.World.Host(Host)));
        var item = Assert.Single(await DatabaseDump.RowsAsync(app.App.Service<Database>(), "SELECT deferrals, outage_retries FROM items"));
        Assert.Equal((0L, 0L), (Convert.ToInt64(item["deferrals"], CultureInfo.InvariantCulture), Convert.ToInt64(item["outage_retries"], CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// At a greylisting domain not known yet, a lone person's opener is deferred and the probe is planted right after it
    /// (README, rule 7), so both have passed by her first retry: one greylisting put-off, not a second one to plant the probe.
    /// </summary>
    [Fact]
    public async Task At_a_greylisting_domain_not_known_yet_a_lone_persons_opener_is_deferred_and_the_probe_planted_with_it()
    {
        // Retries 3 s apart, against postgrey's 2 s: whatever the first session planted has passed at the first retry.
        var schedule = new Dictionary<string, string?>
        {
            ["Smtp:GreylistRetryAfter:0"] = "00:00:03", ["Smtp:GreylistRetryAfter:1"] = "00:00:06", ["Smtp:GreylistRetryAfter:2"] = "00:00:09",
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, GreylistingTests.World, schedule);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Ada", "Byron", GreylistingTests.Domain, null, Emails));

        Assert.Equal([($"ada.byron@{GreylistingTests.Domain}", "DELIVERABLE")], EmailsOf(results[0]));
        var asked = GreylistingTests.RcptsWithReplies(app.World.Host($"mx.{GreylistingTests.Domain}"));
        var passed = asked.First(r => !r.Reply.StartsWith("450", StringComparison.Ordinal)).At;
        Assert.Equal(2, asked.Count(r => r.At < passed)); // her first candidate and the probe, each planted once
        var item = Assert.Single(await DatabaseDump.RowsAsync(app.App.Service<Database>(), "SELECT deferrals FROM items"));
        Assert.Equal(1L, Convert.ToInt64(item["deferrals"], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Two processes on one database: the second's person arrives while the first's lane holds the domain, so she is asked
    /// the probe's question before anything is known of the domain, and the lane that takes the domain over reads the answer
    /// the first lane's opener stood for. Nobody asks the probe, and what is kept of that answer quotes no one's address.
    /// </summary>
    [Fact]
    public async Task A_rejection_standing_for_the_probe_is_shared_with_another_process_and_quotes_no_ones_address()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        // 100 ms a reply: the first lane holds the domain long enough for the second process's person to arrive.
        await using var world = await World.StartAsync(new WorldDescription
        {
            Domains = [Flast.Domains[0] with { ReplyDelayMs = 100 }],
        });
        await using var first = await FinderProcess.StartAsync(database, world);
        await using var second = await FinderProcess.StartAsync(database, world);

        var ada = FindAsync(first, "Ada", "Lovelace");
        while (world.Host(Host).Transcript.Lines.Count == 0)
        {
            await Task.Delay(10);
        }

        var grace = await FindAsync(second, "Grace", "Hopper");
        var adas = await ada;

        Assert.Contains(adas.Emails, e => e is { Address: "alovelace@acme.test", Observation: EmailObservation.MailboxAccepted });
        Assert.Contains(grace.Emails, e => e is { Address: "ghopper@acme.test", Observation: EmailObservation.MailboxAccepted });
        Assert.Equal(0, DomainLaneTests<TProvider>.ProbesAsked(world.Host(Host)));

        // What is kept of the domain's "not catch-all", which every process and person reads, says why in plain words.
        var kept = Assert.Single(await DatabaseDump.RowsAsync(first.GetRequiredService<Database>(),
            "SELECT catch_all, catch_all_evidence FROM domain_knowledge WHERE domain = 'acme.test'"));
        Assert.Equal(0L, Convert.ToInt64(kept["catch_all"], System.Globalization.CultureInfo.InvariantCulture));
        var evidence = (string)kept["catch_all_evidence"]!;
        Assert.DoesNotContain("lovelace", evidence, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("does not exist", evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(grace.Emails, e => $"{e}{e.Provenance}".Contains("lovelace", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, world.DataAttempts);
    }

    private static Task<SourceFindings> FindAsync(ServiceProvider process, string first, string last) => FinderProcess.FindAsync(process, first, last, Domain);
}

public sealed class SqliteCandidateBeforeProbeTests : CandidateBeforeProbeTests<Sqlite>;

public sealed class PostgresCandidateBeforeProbeTests : CandidateBeforeProbeTests<Postgres>;
