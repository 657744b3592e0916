extern alias SimulatedWorld;

using System.Text.Json.Nodes;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ConsoleTable;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Privacy;

/// <summary>
/// Opt-out and erasure as an operator does them: the admin commands (the built program, a child process) on the
/// database of the running app, which enriches against the simulated world. A suppressed person or domain is asked of
/// no source (no SMTP, no crawl) and answered "suppressed", charged nothing; an erased person is gone from every
/// store, their past answers say so, and they stay suppressed.
/// </summary>
public abstract class PrivacyTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            TeamSite.Acme("<a href=\"/team\">Our team</a>",
                "<ul><li><h3>John Smith</h3><p>Mobile <a href=\"tel:+14153450123\">(415) 345-0123</a></p></li>" +
                "<li><h3>Jane Doe</h3><p>Phone <a href=\"tel:+12123450177\">(212) 345-0177</a></p></li></ul>"),
            new DomainDescription { Name = "other.test", Mx = [new MxDescription { Host = "mx.other.test" }], Mailboxes = ["ann.lee"] },
        ],
    };

    [Fact]
    public async Task Suppressed_people_and_domains_are_asked_of_no_source_answered_suppressed_and_charged_nothing()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        Task<ProgramResult> Admin(params string[] args) => ProgramRunner.RunAsync(app.App.Database, args);

        (await Admin("suppressions", "add", "--domain", "other.test")).AssertSucceeded();
        (await Admin("suppressions", "add", "--person", "Jane Doe", "--domain", "acme.test")).AssertSucceeded();
        (await Admin("suppressions", "add", "--email", "John.Smith@acme.test")).AssertSucceeded();
        (await Admin("suppressions", "add", "--linkedin", "https://www.linkedin.com/in/grace-h/")).AssertSucceeded();
        Assert.Contains("Already suppressed", (await Admin("suppressions", "add", "--domain", "other.test")).AssertSucceeded().StandardOutput);
        Assert.Contains("4 suppressions.", (await Admin("suppressions", "list")).AssertSucceeded().OutputLines);

        var results = await account.EnrichAsync(
            Query("Ann", "Lee", "other.test"),
            Query("JANE", "Doé", "acme.test"),
            Query("John", "Smith", "acme.test"),
            Query("Grace", "Hopper", "acme.test", "https://linkedin.com/in/grace-h"));

        Assert.Equal("suppressed at the domain's request", results[0]["error"]!.GetValue<string>());
        Assert.All(results.Skip(1), r => Assert.Equal("suppressed at the person's request", r["error"]!.GetValue<string>()));
        Assert.All(results, r => Assert.True(EmailsOf(r).Count == 0 && PhonesOf(r).Count == 0 && r["most_probable_email"] is null));
        Assert.Equal(0, (await account.CreditsAsync()).Used);
        Assert.Equal(0, app.World.TotalDnsQueries); // not even the MX of the suppressed domain
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal(0, app.World.TotalRcptCommands);
        Assert.Equal(0, app.World.TotalHttpRequests);

        // Lifted, the domain is looked at again.
        Assert.Contains("Removed 1.", (await Admin("suppressions", "remove", "--domain", "other.test")).AssertSucceeded().OutputLines);
        var ann = Assert.Single(await account.EnrichAsync(Query("Ann", "Lee", "other.test", null, Emails)));
        Assert.Equal("ann.lee@other.test", ann["most_probable_email"]!.GetValue<string>());
        Assert.Null(ann["error"]);
    }

    [Fact]
    public async Task An_erased_person_is_gone_from_every_store_their_past_answers_say_so_and_they_are_not_found_again()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader("""
            firstname,lastname,domain,email,linkedin_url
            John,Smith,acme.test,john.smith@acme.test,https://www.linkedin.com/in/jsmith
            Jane,Doe,acme.test,jane.doe@acme.test,
            """), "contacts.csv", CancellationToken.None);
        var account = await app.App.CreateAccountAsync();
        Task<ProgramResult> Admin(params string[] args) => ProgramRunner.RunAsync(app.App.Database, args);
        var requestId = await account.SubmitAcceptedAsync(new { requests = new[] { Query("John", "Smith", "acme.test"), Query("Jane", "Doe", "acme.test") } });
        var before = await account.WaitForCompletionAsync(requestId);
        Assert.Equal("john.smith@acme.test", before["results"]![0]!["most_probable_email"]!.GetValue<string>());
        var usedBefore = (await account.CreditsAsync()).Used;

        // Named only by the profile: the directory links it to his name and address, and all of them go.
        var erased = (await Admin("people", "erase", "--linkedin", "https://linkedin.com/in/jsmith")).AssertSucceeded();

        var removed = erased.OutputLines.Where(line => line.Contains('│')).Select(Cells).Where(c => c.Length == 2 && int.TryParse(c[1], out _))
            .ToDictionary(c => c[0], c => int.Parse(c[1]));
        Assert.Equal(1, removed["directory contacts"]);
        Assert.Equal(1, removed["stored answers of past requests"]);
        Assert.True(removed["cached answers"] >= 1);
        Assert.Equal(1, removed["website findings"]); // his block of the team page, with his number
        Assert.Equal(3, removed["suppressions added"]); // his address, his profile, his name at acme.test
        Assert.Equal(1, removed["charged addresses (hashed)"]); // what a bounce of his address would have refunded

        var after = await account.GetAsync(requestId);
        var john = after["results"]![0]!;
        Assert.Equal("COMPLETED", john["status"]!.GetValue<string>());
        Assert.Equal("erased at the person's request", john["error"]!.GetValue<string>());
        Assert.True(EmailsOf(john).Count == 0 && PhonesOf(john).Count == 0);
        Assert.Equal("jane.doe@acme.test", after["results"]![1]!["most_probable_email"]!.GetValue<string>()); // the others keep theirs
        Assert.Equal(usedBefore, (await account.CreditsAsync()).Used); // the ledger is not rewritten

        foreach (var (table, where) in new[]
        {
            ("directory_contacts", "email = 'john.smith@acme.test'"),
            ("domain_addresses", "local_part = 'john.smith'"),
            ("results_cache", "first_key = 'john'"),
            ("items", "firstname = 'John'"),
        })
        {
            Assert.Empty(await DatabaseDump.RowsAsync(app.App.Service<PeopleEnrich.Storage.Database>(), $"SELECT * FROM {table} WHERE {where}"));
        }

        var crawl = Assert.Single(await DatabaseDump.RowsAsync(app.App.Service<PeopleEnrich.Storage.Database>(), "SELECT findings FROM website_crawls"));
        Assert.DoesNotContain("John Smith", (string)crawl["findings"]!, StringComparison.Ordinal);
        Assert.Contains("Jane Doe", (string)crawl["findings"]!, StringComparison.Ordinal);

        // Asked again, he is not looked for.
        var rcpt = app.World.TotalRcptCommands;
        var again = Assert.Single(await account.EnrichAsync(Query("John", "Smith", "acme.test")));
        Assert.Equal("suppressed at the person's request", again["error"]!.GetValue<string>());
        Assert.Equal(rcpt, app.World.TotalRcptCommands);

        // The audit trail says an erasure was run, but not of whom.
        var audit = (await Admin("audit", "list")).AssertSucceeded();
        Assert.Contains(audit.OutputLines, line => line.Contains("people erase", StringComparison.Ordinal) && line.Contains("--linkedin sha256:", StringComparison.Ordinal));
        Assert.DoesNotContain("jsmith", audit.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_erasure_waits_for_the_worker_holding_the_person_and_finishes_their_put_off_items_at_once()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                // Every reply takes 2.5 s: a worker holds John's item for a quarter of a minute.
                new DomainDescription { Name = "slow.test", Mx = [new MxDescription { Host = "mx.slow.test" }], Mailboxes = ["john.smith"], ReplyDelayMs = 2500 },
                new DomainDescription { Name = "grey.test", Mx = [new MxDescription { Host = "mx.grey.test" }], Mailboxes = ["mary.major"], Behaviour = Behaviour.Greylist },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?>
        {
            ["Smtp:CommandTimeout"] = "00:00:06",
            ["Smtp:GreylistRetryAfter"] = "00:10:00",
        });
        var database = app.App.Service<PeopleEnrich.Storage.Database>();
        var account = await app.App.CreateAccountAsync();
        Task<ProgramResult> Admin(params string[] args) => ProgramRunner.RunAsync(app.App.Database, args);
        async Task<IReadOnlyDictionary<string, object?>> ItemOf(string domain) =>
            Assert.Single(await DatabaseDump.RowsAsync(database, "SELECT status, lease_owner, deferrals, last_error, result_json FROM items WHERE domain = @domain", new { domain }));

        var requestId = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Mary", "Major", "grey.test"), Query("John", "Smith", "slow.test") } });
        while ((await ItemOf("slow.test"))["lease_owner"] is null || Convert.ToInt64((await ItemOf("grey.test"))["deferrals"]) == 0)
        {
            await Task.Delay(50);
        }

        // John's worker is talking to his mail server: the erasure waits for it, so that what it learns is erased too.
        var erased = (await Admin("people", "erase", "--person", "John Smith", "--domain", "slow.test")).AssertSucceeded();
        Assert.DoesNotContain("still being worked on", erased.StandardOutput, StringComparison.Ordinal);
        var john = await ItemOf("slow.test");
        Assert.Equal("COMPLETED", john["status"]);
        Assert.DoesNotContain("john.smith", (string)john["result_json"]!, StringComparison.Ordinal);
        Assert.Empty(await DatabaseDump.RowsAsync(database, "SELECT * FROM domain_addresses WHERE local_part = 'john.smith'"));
        Assert.Empty(await DatabaseDump.RowsAsync(database, "SELECT * FROM results_cache WHERE first_key = 'john'"));

        // Mary's item waits on the queue for greylisting's retry, ten minutes away: it ends now, answered "erased".
        Assert.Equal("PROCESSING", (await ItemOf("grey.test"))["status"]);
        (await Admin("people", "erase", "--person", "Mary Major", "--domain", "grey.test")).AssertSucceeded();
        var mary = await ItemOf("grey.test");
        Assert.Equal("COMPLETED", mary["status"]);
        Assert.Equal("erased at the person's request", mary["last_error"]);

        var batch = await account.WaitForCompletionAsync(requestId);
        Assert.All(batch["results"]!.AsArray(), r => Assert.Equal("erased at the person's request", r!["error"]!.GetValue<string>()));
        var credits = await account.CreditsAsync();
        Assert.Equal(credits.Total - credits.Used, credits.Remaining); // nothing left reserved; Mary was charged nothing
        Assert.True(credits.Used <= 1);
    }

    [Fact]
    public async Task An_erased_address_leaves_the_memory_of_the_running_server_soon_after_the_erasure_in_another_process()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription { Name = "other.test", Mx = [new MxDescription { Host = "mx.other.test" }], Mailboxes = ["ann.lee"] },
                new DomainDescription { Name = "grey.test", Mx = [new MxDescription { Host = "mx.grey.test" }], Mailboxes = ["mary.major"], Behaviour = Behaviour.Greylist },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?>
        {
            ["Smtp:GreylistRetryAfter"] = "00:10:00",
            ["Privacy:FollowErasuresEvery"] = "00:00:00.2",
        });
        var database = app.App.Service<PeopleEnrich.Storage.Database>();
        var account = await app.App.CreateAccountAsync();
        var sessions = app.App.Service<PeopleEnrich.Verification.Smtp.DomainSessions>();
        var greylisting = app.App.Service<PeopleEnrich.Sources.EmailFinder.GreylistSchedules>();

        // The server remembers what mx.other.test answered for Ann (so as not to ask again for half an hour), and that
        // mx.grey.test deferred Mary's first candidate (to ask it again first, when her retry comes in ten minutes).
        Assert.Equal("ann.lee@other.test", Assert.Single(await account.EnrichAsync(Query("Ann", "Lee", "other.test", null, Emails)))["most_probable_email"]!.GetValue<string>());
        await account.SubmitAcceptedAsync(new { requests = new[] { Query("Mary", "Major", "grey.test") } });
        while (Convert.ToInt64(Assert.Single(await DatabaseDump.RowsAsync(database, "SELECT deferrals FROM items WHERE domain = 'grey.test'"))["deferrals"]) == 0)
        {
            await Task.Delay(50);
        }

        Assert.True(sessions.Remembers("ann.lee@other.test"));
        Assert.Contains("mary.major@grey.test", greylisting.PlantedAmong(["mary.major@grey.test"]));

        // The operator erases both with the admin command, a process of its own that cannot reach the server's memory.
        (await ProgramRunner.RunAsync(app.App.Database, "people", "erase", "--email", "ann.lee@other.test")).AssertSucceeded();
        (await ProgramRunner.RunAsync(app.App.Database, "people", "erase", "--email", "mary.major@grey.test")).AssertSucceeded();

        // The server follows the erasures on the database, and forgets them (without it: for half an hour, and an hour).
        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        while ((sessions.Remembers("ann.lee@other.test") || greylisting.PlantedAmong(["mary.major@grey.test"]).Count > 0) && DateTime.UtcNow < giveUpAt)
        {
            await Task.Delay(50);
        }

        Assert.False(sessions.Remembers("ann.lee@other.test"));
        Assert.Empty(greylisting.PlantedAmong(["mary.major@grey.test"]));
    }

    [Theory]
    [InlineData(new[] { "people", "erase" }, "Name someone")]
    [InlineData(new[] { "people", "erase", "--domain", "acme.test" }, "people erase takes one person")]
    [InlineData(new[] { "people", "erase", "--person", "Cher", "--domain", "acme.test" }, "--person takes \"First Last\"")]
    [InlineData(new[] { "suppressions", "add", "--email", "not-an-address" }, "--email 'not-an-address' is not an email address.")]
    [InlineData(new[] { "suppressions", "add", "--linkedin", "https://linkedin.com/company/acme" }, "is not a LinkedIn profile URL")]
    public async Task A_mistake_is_a_one_line_error_and_nothing_is_suppressed(string[] args, string explanation)
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);

        Assert.Contains(explanation, (await ProgramRunner.RunAsync(database, args)).AssertFailedWithError());
        Assert.Contains("No suppressions.", (await ProgramRunner.RunAsync(database, "suppressions", "list")).AssertSucceeded().OutputLines);
    }
}

public sealed class SqlitePrivacyTests : PrivacyTests<Sqlite>;

public sealed class PostgresPrivacyTests : PrivacyTests<Postgres>;
