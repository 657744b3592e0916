extern alias SimulatedWorld;

using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// The finder against the defaults of real mail software, as the simulated world copies them: Postfix's
/// error limits (slowed from the 10th rejected recipient of a session, hung up on at the 20th), a server
/// throttling sooner, a block-list refusal at RCPT, mail hosts that refuse connections.
/// </summary>
public abstract class RealMailServerTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly string[] Nobodies = ["Zed Nobody", "Yan Noone", "Xia Nemo", "Wil Nadie", "Val Niemand", "Uma Personne"];

    [Fact]
    public async Task Sessions_end_before_postfix_slows_us_down_and_people_without_a_mailbox_never_cost_a_hang_up()
    {
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = "postfix.test", Mx = [new MxDescription { Host = "mx.postfix.test" }], Behaviour = Behaviour.Postfix, Mailboxes = ["jane.doe"] }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        // Six people with no mailbox walk their candidates: far more than 20 rejected recipients in all.
        var results = await account.EnrichAsync([.. Nobodies.Select(n => Query(n.Split(' ')[0], n.Split(' ')[1], "postfix.test", null, Emails)), Query("Jane", "Doe", "postfix.test", null, Emails)]);

        Assert.Equal([("jane.doe@postfix.test", "DELIVERABLE")], EmailsOf(results[^1]));
        var host = app.World.Host("mx.postfix.test");
        Assert.True(host.RcptCommands > 20, $"only {host.RcptCommands} RCPT: the test proves nothing");
        Assert.All(host.SessionLog, session => Assert.True(session.Errors < 10, $"session {session.Id} met {session.Errors} errors: Postfix slows a client from its 10th"));
        Assert.DoesNotContain(host.Transcript.Lines, line => line.Text.StartsWith("421", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_that_answers_slowly_after_rejections_is_throttling_and_the_session_ends_there()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "strict.test", Mx = [new MxDescription { Host = "mx.strict.test" }], Mailboxes = ["jane.doe"],
                    ErrorLimits = new ErrorLimits { SoftErrorLimit = 3, ErrorSleepMs = 1000, HardErrorLimit = 20 },
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        await account.EnrichAsync(Query("Zed", "Nobody", "strict.test", null, Emails), Query("Yan", "Noone", "strict.test", null, Emails));

        var host = app.World.Host("mx.strict.test");
        Assert.True(host.SessionLog.Count >= 2, $"{host.SessionLog.Count} session(s): the walk never met the throttle");
        // The 3rd error's reply is the first slow one: the session ends after it, never dragging on at a second a reply.
        Assert.All(host.SessionLog, session => Assert.True(session.Errors <= 4, $"session {session.Id} went on to {session.Errors} errors while throttled"));
    }

    [Fact]
    public async Task The_first_block_list_refusal_stops_all_probing_of_that_host_for_everyone_and_is_remembered()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "rbl.test", Mx = [new MxDescription { Host = "mx.rbl.test" }], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt,
                    Mailboxes = ["jane.doe", "john.smith"],
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();
        var people = new[] { "Jane Doe", "John Smith", "Ann Lee", "Bob Ray", "Cy Twombly", "Di Fox", "Ed Wood", "Flo Rida" }
            .Select(n => Query(n.Split(' ')[0], n.Split(' ')[1], "rbl.test", null, Emails)).ToArray();

        var results = await account.EnrichAsync(people);

        Assert.All(results, result => Assert.Empty(EmailsOf(result))); // no verdict, certainly not INVALID
        Assert.All(results, result => Assert.Contains("refused us", result["error"]!.GetValue<string>())); // said, not silent
        // The server's words are quoted, but not the address it saw us at: that is the operator's, not the caller's.
        Assert.All(results, result => Assert.Contains("Client host [address withheld] blocked using zen.spamhaus.org", result["error"]!.GetValue<string>()));
        Assert.All(results, result => Assert.DoesNotContain("127.0.0.1", result.ToJsonString()));
        var host = app.World.Host("mx.rbl.test");
        Assert.Equal(1, host.RcptCommands); // the one that was refused, then none
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync()); // nothing was found, nothing is charged
        await using (var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None))
        {
            var standing = await connection.QuerySingleAsync<(long RefusedUs, string Why)>("SELECT refused_us, why FROM mail_host_standing WHERE host = 'mx.rbl.test'");
            Assert.Equal(1, standing.RefusedUs);
            Assert.Contains("blocked using zen.spamhaus.org", standing.Why);
        }

        // Another batch (and any other process on this database) does not ask that host again during the cool-down.
        app.World.ResetObservations();
        await account.EnrichAsync(Query("Gil", "Scott", "rbl.test", null, Emails));
        Assert.Equal(0, app.World.TotalSessions);
    }

    [Fact]
    public async Task A_host_that_refused_us_is_asked_again_once_the_cool_down_is_over()
    {
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = "rbl.test", Mx = [new MxDescription { Host = "mx.rbl.test" }], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt }],
        };
        var cooldown = TimeSpan.FromSeconds(1);
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:BlockCooldown"] = cooldown.ToString() });
        var account = await app.App.CreateAccountAsync();
        await account.EnrichAsync(Query("Jane", "Doe", "rbl.test", null, Emails));
        var host = app.World.Host("mx.rbl.test");
        Assert.Equal(1, host.RcptCommands);

        // The cool-down over (for every process: the host's standing has run out), the host is asked again, not answered
        // from what this process remembers of the refusal for as long as it lives.
        // (The refusal is written right after its people are answered: its cool-down counts from then.)
        var memory = app.App.Service<Verification.Smtp.IMailHostMemory>();
        await Task.Delay(cooldown);
        for (var waited = 0; waited < 100 && await memory.StandingAsync("mx.rbl.test", CancellationToken.None) is not null; waited++)
        {
            await Task.Delay(100);
        }

        Assert.Null(await memory.StandingAsync("mx.rbl.test", CancellationToken.None));
        var results = await account.EnrichAsync(Query("Gil", "Scott", "rbl.test", null, Emails));

        Assert.Equal(2, host.RcptCommands); // refused again, and remembered again
        Assert.Contains("refused us", results[0]["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refusal_of_us_with_a_temporary_code_stops_all_probing_of_that_host_too()
    {
        // Postfix's reject_unknown_client_hostname answers 450 (unknown_client_reject_code), at RCPT by default
        // (smtpd_delay_reject): a refusal of us, whatever its class, not greylisting to come back to round after round.
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "rdns.test", Mx = [new MxDescription { Host = "mx.rdns.test" }], Behaviour = Behaviour.RateLimited, MaxRecipients = 0,
                    RateLimitReply = "450 4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.1]", Mailboxes = ["jane.doe"],
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:GreylistRetryAfter"] = "00:00:00.500" });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "rdns.test", null, Emails), Query("Zed", "Nobody", "rdns.test", null, Emails));

        Assert.Equal(1, app.World.Host("mx.rdns.test").RcptCommands); // the one that was refused, then none
        Assert.All(results, result => Assert.Equal(
            "Could not check: the mail server mx.rdns.test refused us: 450 4.7.1 Client host rejected: cannot find your reverse hostname, [address withheld]",
            result["error"]?.GetValue<string>()));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        await using var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None);
        Assert.Equal(1, await connection.QuerySingleAsync<long>("SELECT refused_us FROM mail_host_standing WHERE host = 'mx.rdns.test'"));
    }

    [Fact]
    public async Task A_refusal_on_one_domains_lane_stops_every_domain_the_host_serves()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "alpha.test", Mx = [new MxDescription { Host = "mx.shared.test" }], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt },
                new DomainDescription { Name = "bravo.test", Mx = [new MxDescription { Host = "mx.shared.test" }] },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();

        await account.EnrichAsync([.. Nobodies.Select(n => Query(n.Split(' ')[0], n.Split(' ')[1], "alpha.test", null, Emails)),
            .. Nobodies.Select(n => Query(n.Split(' ')[0], n.Split(' ')[1], "bravo.test", null, Emails))]);

        // Each lane may have had its first RCPT in flight when the refusal came; nothing after it.
        Assert.InRange(app.World.Host("mx.shared.test").RcptCommands, 1, 2);
    }

    [Fact]
    public async Task A_lane_waiting_for_a_session_at_a_host_that_refuses_us_meanwhile_opens_none()
    {
        // One session at a time at the shared host: one domain's lane waits for it while the other's is refused.
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "alpha.test", Mx = [new MxDescription { Host = "mx.shared.test" }], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt },
                new DomainDescription { Name = "bravo.test", Mx = [new MxDescription { Host = "mx.shared.test" }] },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "1" });
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "alpha.test", null, Emails), Query("John", "Smith", "bravo.test", null, Emails));

        Assert.All(results, result => Assert.Contains("refused us", result["error"]!.GetValue<string>()));
        var host = app.World.Host("mx.shared.test");
        Assert.Equal(1, host.RcptCommands);
        Assert.Equal(1, host.Sessions); // not a second session (connection, EHLO, MAIL FROM) once the host has refused us
    }

    [Fact]
    public async Task Block_list_refusals_from_three_unrelated_hosts_pause_all_probing_and_readyz_says_why()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                .. new[] { "alpha", "bravo", "charlie" }.Select(name => new DomainDescription
                {
                    Name = $"{name}.test", Mx = [new MxDescription { Host = $"mx.{name}.test" }], Behaviour = Behaviour.PolicyBlock, BlockAt = BlockAt.Rcpt, Mailboxes = ["jane.doe"],
                }),
                new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = ["jane.doe"] },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world);
        var account = await app.App.CreateAccountAsync();
        using var client = app.App.Client();
        Assert.DoesNotContain("paused", await client.GetStringAsync("/readyz"));

        await account.EnrichAsync(Query("Jane", "Doe", "alpha.test", null, Emails), Query("Jane", "Doe", "bravo.test", null, Emails), Query("Jane", "Doe", "charlie.test", null, Emails));
        await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));

        Assert.Equal(0, app.World.Host("mx.acme.test").Sessions); // our address is listed: nobody is asked anything
        using var ready = await client.GetAsync("/readyz");
        Assert.True(ready.IsSuccessStatusCode); // the API still serves; probing is what is paused
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Contains("smtp-probing: Degraded: SMTP probing is paused until", body);
        Assert.Contains("mx.charlie.test", body);
    }

    [Fact]
    public async Task A_mail_host_that_refuses_connections_is_remembered_and_not_tried_again_meanwhile()
    {
        var world = new WorldDescription
        {
            Domains = [new DomainDescription { Name = "dead.test", Mx = [new MxDescription { Host = "mx.dead.test" }], RefuseConnections = true, Mailboxes = ["jane.doe"] }],
        };
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, services: services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.App.CreateAccountAsync();

        await account.EnrichAsync(Query("Jane", "Doe", "dead.test", null, Emails));
        await using (var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None))
        {
            // Remembered (a missing row would read as 0 through ExecuteScalar), and as unreachable, not as a refusal of us.
            Assert.Equal(0L, await connection.QuerySingleAsync<long>("SELECT refused_us FROM mail_host_standing WHERE host = 'mx.dead.test'"));
        }

        await account.EnrichAsync(Query("John", "Smith", "dead.test", null, Emails));
        Assert.Contains(logs.Messages, m => m.Contains("mx.dead.test could not be reached", StringComparison.Ordinal) && m.Contains("not trying again", StringComparison.Ordinal));
    }
}

public sealed class SqliteRealMailServerTests : RealMailServerTests<Sqlite>;

public sealed class PostgresRealMailServerTests : RealMailServerTests<Postgres>;
