extern alias SimulatedWorld;

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Smtp;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// "We could not check" is never "nothing found": people whose mail servers stall, refuse connections,
/// throttle or refuse us, or whose DNS does not answer, through the real API against the simulated world.
/// Each result has the address or the error; such answers are put off and asked again (TestApp's
/// Waterfall:OutageRetryAfter: twice, half a second apart), never cached, and charged only for what was found.
/// </summary>
public abstract class OutageTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [Mx("mx.acme.test")], Mailboxes = ["jane.doe"] },
            // Down: DNS answers, the mail hosts refuse every connection.
            new DomainDescription { Name = "dead.test", Mx = [Mx("mx1.dead.test"), Mx("mx2.dead.test", 20)], RefuseConnections = true, Mailboxes = ["dora.dean"] },
            // Stalls: says nothing for longer than Smtp:CommandTimeout (3 s in the tests).
            new DomainDescription { Name = "tarpit.test", Mx = [Mx("mx.tarpit.test")], Behaviour = Behaviour.Tarpit, TarpitMs = 20_000, Mailboxes = ["tom.tar"] },
            // Throttles: greylists every recipient for longer than the greylisting retries last.
            new DomainDescription { Name = "throttled.test", Mx = [Mx("mx.throttled.test")], Behaviour = Behaviour.Greylist, GreylistSeconds = 3600, Mailboxes = ["tess.slow"] },
            // Refuses us: at the banner, and (a block-listed client) at every RCPT.
            new DomainDescription { Name = "blocked.test", Mx = [Mx("mx.blocked.test")], Behaviour = Behaviour.PolicyBlock, Mailboxes = ["ann.lee"] },
            new DomainDescription { Name = "rbl.test", Mx = [Mx("mx.rbl.test")], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt, Mailboxes = ["rita.rbl"] },
            // Busy: greets every connection with 421 (more sessions than it allows, which is none).
            new DomainDescription { Name = "busy.test", Mx = [Mx("mx.busy.test")], Behaviour = Behaviour.Busy, MaxSessions = 0, Mailboxes = ["bea.busy"] },
        ],
    };

    /// <summary>Greylisting's own retries, short: they are spent before the test is.</summary>
    private static readonly Dictionary<string, string?> ShortGreylisting = new() { ["Smtp:GreylistRetryAfter"] = "00:00:00.500" };

    [Fact]
    public async Task Servers_that_stall_refuse_connections_throttle_or_refuse_us_give_the_address_or_the_error_uncached_and_uncharged()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, ShortGreylisting);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(
            Query("Jane", "Doe", "acme.test", null, Emails),
            Query("Dora", "Dean", "dead.test", null, Emails),
            Query("Tom", "Tar", "tarpit.test", null, Emails),
            Query("Tess", "Slow", "throttled.test", null, Emails),
            Query("Ann", "Lee", "blocked.test", null, Emails),
            Query("Rita", "Rbl", "rbl.test", null, Emails));

        AssertAddressOrError(results);
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Null(results[0]["error"]);
        Assert.Equal("Could not check: the mail servers of dead.test did not answer", Error(results[1]));
        Assert.Equal("Could not check: the mail servers of tarpit.test did not answer", Error(results[2]));
        Assert.Equal("Could not check: the mail servers of throttled.test kept deferring us", Error(results[3]));
        Assert.StartsWith("Could not check: the mail server mx.blocked.test refused us: 554 5.7.1 Service unavailable; Client host [", Error(results[4]));
        Assert.StartsWith("Could not check: the mail server mx.rbl.test refused us: 554 5.7.1 Service unavailable; Client host [", Error(results[5]));

        // An outage is asked about again, twice; a refusal of us, never (one session each); throttling had greylisting's retries.
        Assert.Equal(
            [("acme.test", 0L, 0L), ("dead.test", 0L, 2L), ("tarpit.test", 0L, 2L), ("throttled.test", (long)new SmtpOptions().MaxGreylistRetries, 0L), ("blocked.test", 0L, 0L), ("rbl.test", 0L, 0L)],
            await PutOffsAsync(app));
        Assert.Equal(1, app.World.Host("mx.blocked.test").Sessions);
        // The hosts that did not answer, refusing connections or silent past Smtp:CommandTimeout, are remembered so, and as
        // failing from the first attempt to the last retry (TestApp's two half-second waits at least).
        var memory = app.App.Service<IMailHostMemory>();
        foreach (var host in new[] { "mx1.dead.test", "mx2.dead.test", "mx.tarpit.test" })
        {
            var standing = await memory.StandingAsync(host, CancellationToken.None);
            Assert.True(standing is { RefusedUs: false }, $"{host}: {standing}");
            Assert.True(standing.FailingFor >= TimeSpan.FromSeconds(1), $"{host} failing for {standing.FailingFor}");
        }

        // Charged for Jane's address only, and only her answer is kept for next time.
        Assert.Equal((1L, 1000L, 999L), await account.CreditsAsync());
        Assert.Equal(["acme.test"], await CachedDomainsAsync(app));
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task People_at_mail_hosts_remembered_unreachable_are_answered_at_once_while_the_first_ones_retries_try_them_again()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.App.CreateAccountAsync();

        // The first person meets the dead hosts: put off twice, then the error.
        var first = await account.EnrichAsync(Query("Dora", "Dean", "dead.test", null, Emails));
        // The next batch, within Smtp:UnreachableTtl of that: its people there are answered at once, with the same error.
        var next = await account.EnrichAsync(Query("Dan", "Dean", "dead.test", null, Emails), Query("Jane", "Doe", "acme.test", null, Emails));

        AssertAddressOrError([.. first, .. next]);
        Assert.Equal("Could not check: the mail servers of dead.test did not answer", Error(first[0]));
        Assert.Equal("Could not check: the mail servers of dead.test did not answer", Error(next[0]));
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(next[1]));
        Assert.Equal([("dead.test", 0L, 2L), ("dead.test", 0L, 0L), ("acme.test", 0L, 0L)], await PutOffsAsync(app));
        // The first person's retries were retries: each tried both hosts again, though they were remembered unreachable.
        foreach (var host in new[] { "mx1.dead.test", "mx2.dead.test" })
        {
            Assert.Equal(2, logs.Messages.Count(m => m.StartsWith($"Trying mail host {host} again", StringComparison.Ordinal)));
        }

        // Charged for Jane's address only, and neither error is kept for next time.
        Assert.Equal((1L, 1000L, 999L), await account.CreditsAsync());
        Assert.Equal(["acme.test"], await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task People_at_mail_hosts_that_failed_only_a_moment_ago_are_put_off_and_try_them_again_rather_than_answered_at_once()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.App.CreateAccountAsync();
        var memory = app.App.Service<IMailHostMemory>();
        var until = app.App.Service<TimeProvider>().GetUtcNow().AddMinutes(15);
        // Another process found these hosts unreachable a moment ago (a network blip, or the start of an outage): not
        // failing yet for as long as an item's outage retries last.
        foreach (var host in new[] { "mx.acme.test", "mx1.dead.test", "mx2.dead.test" })
        {
            await memory.RememberAsync(host, new HostStanding(false, "no connection could be made", until), CancellationToken.None);
        }

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails), Query("Dora", "Dean", "dead.test", null, Emails));

        // Jane's host was back: her retry found it, and her address. Dora's was not: each of her retries tried it again, then the error.
        AssertAddressOrError(results);
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal("Could not check: the mail servers of dead.test did not answer", Error(results[1]));
        Assert.Equal([("acme.test", 0L, 1L), ("dead.test", 0L, 2L)], await PutOffsAsync(app));
        Assert.Null(await memory.StandingAsync("mx.acme.test", CancellationToken.None));
        foreach (var host in new[] { "mx1.dead.test", "mx2.dead.test" })
        {
            Assert.Equal(2, logs.Messages.Count(m => m.StartsWith($"Trying mail host {host} again", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_host_remembered_down_is_forgotten_when_a_retry_finds_it_back_but_a_refusal_of_us_is_not_tried_again()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        var memory = app.App.Service<IMailHostMemory>();
        var until = app.App.Service<TimeProvider>().GetUtcNow().AddMinutes(15);
        await memory.RememberAsync("mx.acme.test", new HostStanding(false, "no connection could be made", until), CancellationToken.None);
        await memory.RememberAsync("mx.blocked.test", new HostStanding(true, "554 5.7.1 Service unavailable", until), CancellationToken.None);
        // Failing for a minute: longer than an item's outage retries last (TestApp's: a second).
        await using (var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("UPDATE mail_host_standing SET since_at = seen_at - 60000 WHERE host = 'mx.acme.test'");
        }

        Assert.Equal(TimeSpan.FromMinutes(1), (await memory.StandingAsync("mx.acme.test", CancellationToken.None))!.FailingFor);

        // Remembered down (by another process): Jane is answered at once, and the host is not asked.
        var before = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));
        Assert.Equal("Could not check: the mail servers of acme.test did not answer", Error(before[0]));
        Assert.Equal([("acme.test", 0L, 0L)], await PutOffsAsync(app));
        Assert.Equal(0, app.World.Host("mx.acme.test").Sessions);

        // A retry of someone put off for it tries it again: it answers, and is forgotten for everyone.
        var prober = app.App.Service<MailboxProber>();
        var (session, failure) = await prober.OpenAsync(RoutingOf(app, "mx.acme.test"), CancellationToken.None, recheckUnreachable: true);
        Assert.Null(failure);
        await session!.DisposeAsync();
        Assert.Null(await memory.StandingAsync("mx.acme.test", CancellationToken.None));
        var after = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(after[0]));

        // A host that refused us is not asked again by a retry either, and stays remembered.
        (session, failure) = await prober.OpenAsync(RoutingOf(app, "mx.blocked.test"), CancellationToken.None, recheckUnreachable: true);
        Assert.Null(session);
        Assert.True(failure!.RefusedUs);
        Assert.Equal(0, app.World.Host("mx.blocked.test").Sessions);
        Assert.True((await memory.StandingAsync("mx.blocked.test", CancellationToken.None))!.RefusedUs);
    }

    [Fact]
    public async Task People_waiting_in_a_lane_when_its_hosts_cannot_be_reached_share_that_attempt_and_are_all_put_off()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var lanes = app.App.Service<DomainSessions>();
        var routing = RoutingOf(app, "mx1.dead.test", "mx2.dead.test");
        // mx1's every session slot held: the lane's attempt waits there until both people are in the lane.
        var held = new List<HostSlot>();
        for (var i = 0; i < new SmtpOptions().MaxSessionsPerHost; i++)
        {
            held.Add(await app.App.Service<HostSlots>().TakeAsync("mx1.dead.test", CancellationToken.None));
        }

        var dora = lanes.AskAsync("dead.test", routing, probe: null, Walk("dora.dean@dead.test"), CancellationToken.None);
        var dan = lanes.AskAsync("dead.test", routing, probe: null, Walk("dan.dean@dead.test"), CancellationToken.None);
        foreach (var slot in held)
        {
            await slot.DisposeAsync();
        }

        // Both met the dead hosts now (put off, to try them again), not the second told at once what the first left remembered.
        foreach (var result in await Task.WhenAll(dora, dan))
        {
            Assert.True(result.Failure is { Unreachable: true, RememberedUnreachable: false, Temporary: true }, $"{result.Failure}");
        }

        static CandidateWalk Walk(string address) => new([new Recipient(address, "FirstDotLast")], probed: false);
    }

    [Fact]
    public async Task A_host_remembered_unreachable_that_a_retry_finds_answering_not_now_is_forgotten_too()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var memory = app.App.Service<IMailHostMemory>();
        var until = app.App.Service<TimeProvider>().GetUtcNow().AddMinutes(15);
        await memory.RememberAsync("mx.busy.test", new HostStanding(false, "no connection could be made", until), CancellationToken.None);

        // The retry reaches it and it says "421 not now": it answers, so its domains' other people are not told it did not.
        var (session, failure) = await app.App.Service<MailboxProber>().OpenAsync(RoutingOf(app, "mx.busy.test"), CancellationToken.None, recheckUnreachable: true);

        Assert.Null(session);
        Assert.Equal(421, failure!.Reply!.Code);
        Assert.False(failure.Unreachable);
        Assert.Equal(1, app.World.Host("mx.busy.test").Sessions);
        Assert.Null(await memory.StandingAsync("mx.busy.test", CancellationToken.None));
    }

    [Fact]
    public async Task When_dns_does_not_answer_the_person_is_asked_about_again_and_the_answer_says_so()
    {
        // A resolver that receives every question and answers none.
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?>
        {
            ["Dns:Servers:0"] = silent.Client.LocalEndPoint!.ToString(),
            ["Dns:Timeout"] = "00:00:00.500",
        });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));

        AssertAddressOrError(results);
        Assert.Empty(EmailsOf(results[0]));
        Assert.Equal("Could not check: DNS did not answer for acme.test", Error(results[0]));
        Assert.Equal([("acme.test", 0L, 2L)], await PutOffsAsync(app));
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        Assert.Empty(await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task When_dns_does_not_answer_for_a_mail_host_the_person_is_asked_about_again_and_the_answer_says_so()
    {
        // The domains' MX answers come, but their mail hosts are named in zones whose DNS is broken (SERVFAIL) or silent.
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "acme.test", Mx = [Mx("mx.broken.test")], Mailboxes = ["jane.doe"] },
                new DomainDescription { Name = "broken.test", DnsServfail = true },
                new DomainDescription { Name = "late.test", Mx = [Mx("mx.slowdns.test")], Mailboxes = ["lee.late"] },
                new DomainDescription { Name = "slowdns.test", DnsDelayMs = 5_000 },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Dns:Timeout"] = "00:00:00.500" });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails), Query("Lee", "Late", "late.test", null, Emails));

        AssertAddressOrError(results);
        Assert.Equal("Could not check: DNS did not answer for acme.test", Error(results[0]));
        Assert.Equal("Could not check: DNS did not answer for late.test", Error(results[1]));
        Assert.Equal([("acme.test", 0L, 2L), ("late.test", 0L, 2L)], await PutOffsAsync(app));
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        Assert.Empty(await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task An_item_no_source_could_answer_is_failed_at_once_when_asking_again_cannot_help_and_costs_nothing()
    {
        // The email finder alone: the directory always answers (if only "not listed"), and so does a website source that is off.
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services =>
        {
            foreach (var other in services.Where(s => s.ServiceType == typeof(IEnrichmentSource) && s.ImplementationType != typeof(EmailFinderSource)).ToList())
            {
                services.Remove(other);
            }
        });
        var account = await app.App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Ann", "Lee", "blocked.test", null, Emails), Query("Dora", "Dean", "dead.test", null, Emails) } });

        var batch = await account.WaitForCompletionAsync(id);

        var results = batch["results"]!.AsArray();
        Assert.All(results, r => Assert.Equal("FAILED", r!["status"]!.GetValue<string>()));
        // Refused: failed on the first attempt, the mail server asked once.
        Assert.StartsWith("every source failed: the mail server mx.blocked.test refused us: 554 5.7.1 ", Error(results[0]!));
        Assert.DoesNotContain("gave up", Error(results[0]!));
        Assert.Equal(1, app.World.Host("mx.blocked.test").Sessions);
        // Down: each attempt failed (Workers:MaxAttempts), and said why.
        Assert.Equal("every source failed: the mail servers of dead.test did not answer (gave up after 5 attempts)", Error(results[1]!));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Theory]
    [InlineData("550 5.5.0 Requested action not taken")]
    public async Task Candidates_answered_with_no_verdict_are_said_in_the_error_not_taken_for_nothing_found(string reply)
    {
        // A domain known not to be catch-all (no probe is asked) whose server now answers every recipient with
        // something that says neither "exists" nor "no such mailbox": no candidate was checked.
        await using var app = await WorldApp.StartAsync(TProvider.Name, AnsweringEveryRecipient(reply));
        await app.App.Service<DomainKnowledge>().RecordCatchAllAsync("odd.test", false, "mx.odd.test", "550 5.1.1 User unknown", CancellationToken.None);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "odd.test", null, Emails));

        Assert.True(app.World.Host("mx.odd.test").RcptCommands > 0, "nothing was asked: the test proves nothing");
        AssertAddressOrError(results);
        Assert.Equal($"Could not check: the mail server mx.odd.test did not say whether an address of odd.test exists: {reply}", Error(results[0]));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        Assert.Empty(await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task A_catch_all_probe_answered_with_no_verdict_is_said_and_no_candidate_is_asked_whose_answer_could_not_count()
    {
        // Nothing tells a mailbox from a polite server here: a candidate's acceptance would mean nothing, and its rejection is not used.
        var odd = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "odd.test", Mx = [Mx("mx.odd.test")], Behaviour = Behaviour.RateLimited, MaxRecipients = 0,
                    RateLimitReply = "550 5.5.0 Requested action not taken", Mailboxes = ["jane.doe"],
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, odd);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "odd.test", null, Emails), Query("John", "Smith", "odd.test", null, Emails));

        Assert.All(results, result => Assert.Equal(
            "Could not check: the mail server mx.odd.test did not say whether an address of odd.test exists: 550 5.5.0 Requested action not taken", Error(result)));
        // The first candidate, whose answer says nothing of the domain, then the probe: no candidate after it.
        Assert.Equal(2, app.World.Host("mx.odd.test").RcptCommands);
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        Assert.Empty(await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task A_domain_whose_only_mx_names_the_root_at_another_preference_than_0_takes_no_mail()
    {
        // "10 ." is a null MX written with the wrong preference (RFC 7505 asks for 0): it names no host, so no mail can go
        // to the domain. No mail server to name, none to ask: the domain takes no mail, as with a null MX (not "the mail
        // servers of nomail.test () have no address in DNS").
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "nomail.test", Mx = [new MxDescription { Host = ".", NoAddress = true }], Mailboxes = ["jane.doe"] },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "nomail.test", null, Emails));

        Assert.True(app.World.DnsQueryCount("nomail.test", "MX") > 0, "the MX was not asked: the test proves nothing");
        Assert.Equal("", Error(results[0]));
        Assert.Empty(EmailsOf(results[0]));
    }

    [Fact]
    public async Task A_domain_whose_mail_hosts_have_no_address_in_dns_is_said_so_at_once_not_answered_as_nothing_found()
    {
        // Mail to these domains bounces now (Postfix: 5.4.4): their MX names a host that does not exist (NXDOMAIN), or a
        // name with no address (NODATA).
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "ghost.test", Mx = [new MxDescription { Host = "mx.ghost.test", NoAddress = true }], Mailboxes = ["jane.doe"] },
                new DomainDescription
                {
                    Name = "bare.test", Mailboxes = ["bob.bare"],
                    Mx = [new MxDescription { Host = "nameonly.test", NoAddress = true }, new MxDescription { Preference = 20, Host = "mx2.bare.test", NoAddress = true }],
                },
                new DomainDescription { Name = "nameonly.test" },
                new DomainDescription { Name = "acme.test", Mx = [Mx("mx.acme.test")], Mailboxes = ["jane.doe"] },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(
            Query("Jane", "Doe", "ghost.test", null, Emails), Query("Bob", "Bare", "bare.test", null, Emails), Query("Jane", "Doe", "acme.test", null, Emails));

        Assert.True(app.World.DnsQueryCount("mx.ghost.test", "A") > 0 && app.World.DnsQueryCount("nameonly.test", "A") > 0, "no host's address was asked: the test proves nothing");
        AssertAddressOrError(results);
        Assert.Equal("Could not check: the mail server of ghost.test (mx.ghost.test) has no address in DNS", Error(results[0]));
        Assert.Equal("Could not check: the mail servers of bare.test (nameonly.test, mx2.bare.test) have no address in DNS", Error(results[1]));
        Assert.Empty(EmailsOf(results[0]));
        Assert.Empty(EmailsOf(results[1]));
        // Answered at once: DNS takes longer than an item's retries to publish a fix. Charged nothing, and not kept for next time.
        Assert.Equal([("ghost.test", 0L, 0L), ("bare.test", 0L, 0L), ("acme.test", 0L, 0L)], await PutOffsAsync(app));
        Assert.Equal((1L, 1000L, 999L), await account.CreditsAsync());
        Assert.Equal(["acme.test"], await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task A_full_mailbox_is_the_persons_address_said_unknown_with_the_servers_words_and_charged_nothing()
    {
        // Jane's mailbox exists but is full; the server rejects made-up recipients, so its "full" is about her mailbox.
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = "full.test", Mx = [Mx("mx.full.test")], Mailboxes = ["john.smith"], FullMailboxes = ["jane.doe"] }],
        };
        // One session, so that one candidate is asked at a time and the RCPTs counted below are the walk's own.
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "1" });
        var account = await app.App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Jane", "Doe", "full.test", null, Emails) } });

        var result = (await account.WaitForCompletionAsync(id))["results"]![0]!;

        const string Full = "552 5.2.2 <jane.doe@full.test>: Recipient address rejected: Mailbox full";
        Assert.Equal("COMPLETED", result["status"]!.GetValue<string>());
        // Neither DELIVERABLE (mail to it would bounce now) nor INVALID (it exists), nor nothing found: UNKNOWN, and why.
        Assert.Equal([("jane.doe@full.test", "UNKNOWN")], EmailsOf(result));
        Assert.Equal("jane.doe@full.test", result["most_probable_email"]?.GetValue<string>());
        Assert.Equal($"Could not check: the mail server mx.full.test said the mailbox jane.doe@full.test is full: it exists, but mail to it would not be delivered now ({Full})", Error(result));
        var evidence = await account.Http.GetFromJsonAsync<JsonNode>($"/api/v2/people/enrich/{id}/evidence");
        var sighting = Assert.Single(evidence!["results"]![0]!["emails"]![0]!["evidence"]!.AsArray())!;
        Assert.Equal(("smtp", "mx.full.test", Full), (sighting["source"]!.GetValue<string>(), sighting["mx_host"]!.GetValue<string>(), sighting["reply"]!.GetValue<string>()));
        // Her walk ended at her full mailbox, as at an accepted one: the probe and her first candidate, nothing more.
        Assert.Equal(2, app.World.Host("mx.full.test").RcptCommands);
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        Assert.Empty(await CachedDomainsAsync(app));
    }

    [Fact]
    public async Task A_full_mailbox_teaches_the_domains_shape_as_an_accepted_one_does()
    {
        // The domain's addresses are first initial and last name, a shape asked only after first.last and others.
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = "full.test", Mx = [Mx("mx.full.test")], Mailboxes = ["jsmith"], FullMailboxes = ["jdoe"] }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "1" });
        var account = await app.App.CreateAccountAsync();
        var jane = await account.EnrichAsync(Query("Jane", "Doe", "full.test", null, Emails));
        Assert.Equal([("jdoe@full.test", "UNKNOWN")], EmailsOf(jane[0]));
        var askedForJane = app.World.Host("mx.full.test").RcptCommands;
        // jane.doe's "no such mailbox" stood for the probe: jdoe came after it, found by walking (else the test proves nothing).
        var rcpts = app.World.Host("mx.full.test").Transcript.Rcpts.Select(l => l.Text).ToList();
        Assert.Equal(["RCPT TO:<jane.doe@full.test>", "RCPT TO:<jdoe@full.test>"], rcpts);

        var john = await account.EnrichAsync(Query("John", "Smith", "full.test", null, Emails));

        // Jane's full mailbox showed the shape: John's address in it is his first candidate, and the only one asked.
        Assert.Equal([("jsmith@full.test", "DELIVERABLE")], EmailsOf(john[0]));
        Assert.Equal(1, app.World.Host("mx.full.test").RcptCommands - askedForJane);
    }

    [Fact]
    public async Task A_source_that_fails_unexpectedly_is_said_in_plain_words_and_its_exception_only_logged()
    {
        // A real failure of ours: the email finder's table of domain facts is gone from the database.
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        await using (var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("DROP TABLE domain_knowledge");
        }

        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));

        // Asked again after each of TestApp's two outage waits, then answered: the caller reads what happened, not our internals.
        Assert.Equal("Could not check: the source email-finder failed unexpectedly (retried 2 times)", Error(results[0]));
        Assert.Equal([("acme.test", 0L, 2L)], await PutOffsAsync(app));
        Assert.Contains(logs.Exceptions, e => e.Message.Contains("domain_knowledge", StringComparison.OrdinalIgnoreCase));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Theory]
    [InlineData("554 5.7.1 Relay access denied", true)]
    [InlineData("554 5.7.1 Relay access denied", false)]
    [InlineData("550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain", false)]
    [InlineData("550 5.7.1 Delivery not authorized, message refused", true)]
    [InlineData("550 5.7.1 Delivery not authorized, message refused", false)]
    public async Task A_policy_refusal_in_words_not_about_us_is_quoted_and_not_said_to_refuse_us(string reply, bool probed)
    {
        // Every recipient gets the refusal: the catch-all probe when the domain is not known, else the candidates.
        await using var app = await WorldApp.StartAsync(TProvider.Name, AnsweringEveryRecipient(reply));
        if (!probed)
        {
            await app.App.Service<DomainKnowledge>().RecordCatchAllAsync("odd.test", false, "mx.odd.test", "550 5.1.1 User unknown", CancellationToken.None);
        }

        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "odd.test", null, Emails));

        Assert.True(app.World.Host("mx.odd.test").RcptCommands > 0, "nothing was asked: the test proves nothing");
        if (!probed)
        {
            // A relay refusal is the domain's, not the candidate's: one is enough. "Not authorized" may be one recipient's (a
            // restricted group), so the person's other candidates are still asked.
            var relay = reply.Contains("relay", StringComparison.OrdinalIgnoreCase);
            Assert.True(relay ? app.World.Host("mx.odd.test").RcptCommands == 1 : app.World.Host("mx.odd.test").RcptCommands > 1,
                $"{app.World.Host("mx.odd.test").RcptCommands} RCPT for one person refused '{reply}'");
        }

        AssertAddressOrError(results);
        Assert.Equal($"Could not check: the mail server mx.odd.test refused addresses of odd.test by its policy, which says nothing of whether they exist: {reply}", Error(results[0]));
        // Not a refusal of us: the host is not kept as one that refused us.
        Assert.Null(await app.App.Service<IMailHostMemory>().StandingAsync("mx.odd.test", CancellationToken.None));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Fact]
    public async Task A_person_waiting_in_their_domains_lane_behind_others_is_not_timed_out_by_the_source_time_out()
    {
        // Twenty people of one domain in one lane (one session), each reply 100 ms: the last waits seconds for the others,
        // five times the source time-out, though their own questions take a fraction of it.
        string[] first = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "John", "Ken", "Dennis", "Linus", "Margaret", "Frances", "Niklaus", "Tony", "Leslie", "Robin", "Butler", "Radia", "Shafi", "Sophie"];
        string[] last = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Backus", "Thompson", "Ritchie", "Torvalds", "Hamilton", "Allen", "Wirth", "Hoare", "Lamport", "Milner", "Lampson", "Perlman", "Goldwasser", "Wilson"];
        var people = first.Zip(last).ToList();
        var lane = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "lane.test", Mx = [Mx("mx.lane.test")], ReplyDelayMs = 100,
                    Mailboxes = people.Select(p => $"{p.First}.{p.Second}".ToLowerInvariant()).ToList(),
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, lane, new Dictionary<string, string?>
        {
            ["Waterfall:SourceTimeout"] = "00:00:00.500",
            ["Workers:Concurrency"] = "20",
            ["Smtp:MaxSessionsPerHost"] = "1",
        });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(people.Select(p => Query(p.First, p.Second, "lane.test", null, Emails)).ToArray());

        for (var i = 0; i < people.Count; i++)
        {
            Assert.Equal([($"{people[i].First}.{people[i].Second}@lane.test".ToLowerInvariant(), "DELIVERABLE")], EmailsOf(results[i]));
            Assert.Null(results[i]["error"]);
        }

        // Nobody was cut off and asked again: the lane's wait was not counted against the finder.
        Assert.All(await PutOffsAsync(app), item => Assert.Equal(("lane.test", 0L, 0L), item));
        var transcript = app.World.Host("mx.lane.test").Transcript.Lines;
        var lastRcpt = transcript.Last(line => line.Text.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase));
        Assert.True(lastRcpt.At - transcript[0].At > TimeSpan.FromSeconds(1), "the lane took less than twice the source time-out: the test proves nothing");
    }

    private static MxDescription Mx(string host, ushort preference = 10) => new() { Host = host, Preference = preference };

    /// <summary>The hosts as DNS would give them, in this order of preference.</summary>
    private static MailRouting.Hosts RoutingOf(WorldApp app, params string[] hosts) =>
        new([.. hosts.Select((host, at) => new Verification.Dns.MailHost(host, (ushort)(10 * (at + 1)), [app.World.Host(host).Address]))], Implicit: false);

    /// <summary>odd.test, where Jane has a mailbox, but whose server answers every recipient with <paramref name="reply"/>.</summary>
    private static WorldDescription AnsweringEveryRecipient(string reply) => new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = "odd.test", Mx = [Mx("mx.odd.test")], Behaviour = Behaviour.RateLimited, MaxRecipients = 0, RateLimitReply = reply,
                Mailboxes = ["jane.doe"],
            },
        ],
    };

    private static string Error(JsonNode result) => result["error"]?.GetValue<string>() ?? "";

    /// <summary>The contract's promise: a COMPLETED result has the address or says what could not be checked.</summary>
    private static void AssertAddressOrError(IEnumerable<JsonNode> results) =>
        Assert.All(results, r => Assert.True(
            EmailsOf(r).Any(e => e.Status == "DELIVERABLE") || Error(r).StartsWith("Could not check: ", StringComparison.Ordinal),
            $"a silent empty answer: {r.ToJsonString()}"));

    /// <summary>Each item's domain, and how often it was put off for greylisting and after an outage, in the order submitted.</summary>
    private static async Task<IReadOnlyList<(string Domain, long Greylisting, long Outage)>> PutOffsAsync(WorldApp app) =>
        (await DatabaseDump.RowsAsync(app.App.Service<Database>(), "SELECT domain, deferrals, outage_retries FROM items ORDER BY batch_id, idx"))
            .Select(row => ((string)row["domain"]!, Convert.ToInt64(row["deferrals"], CultureInfo.InvariantCulture), Convert.ToInt64(row["outage_retries"], CultureInfo.InvariantCulture)))
            .ToList();

    private static async Task<IReadOnlyList<string>> CachedDomainsAsync(WorldApp app) =>
        (await DatabaseDump.RowsAsync(app.App.Service<Database>(), "SELECT DISTINCT domain FROM results_cache"))
            .Select(row => (string)row["domain"]!).ToList();
}

public sealed class SqliteOutageTests : OutageTests<Sqlite>;

public sealed class PostgresOutageTests : OutageTests<Postgres>;
