extern alias SimulatedWorld;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

using Person = PeopleEnrich.Vocabulary.Person;

namespace PeopleEnrich.Tests.Cache;

/// <summary>The results cache through the real API: a person asked again costs no DNS, SMTP or HTTP.</summary>
public abstract class ResultsCacheTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = ["jane.doe", "john.smith"] },
            new DomainDescription { Name = "catchall.test", Mx = [new MxDescription { Host = "mx.catchall.test" }], Behaviour = Behaviour.CatchAll },
        ],
    };

    /// <summary>The finder remembers what a mail server said (Smtp:RememberAnswersFor): off, so that a lookup shows on the server.</summary>
    private const string AskEveryTime = "Smtp:RememberAnswersFor";

    private static Dictionary<string, object>[] Batch() =>
    [
        Query("Jane", "Doe", "acme.test"),
        Query("John", "Smith", "acme.test", "https://www.linkedin.com/in/john-smith-acme"),
        Query("Zed", "Nobody", "acme.test"),
        Query("Ann", "Lee", "catchall.test"),
    ];

    [Fact]
    public async Task The_same_batch_again_makes_no_network_traffic_and_gets_the_same_answers()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        var first = await account.EnrichAsync(Batch());
        Assert.True(app.World.TotalDnsQueries > 0 && app.World.TotalRcptCommands > 0, "the first batch must have asked the world");
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(first[0]));

        app.World.ResetObservations();
        var second = await account.EnrichAsync(Batch());

        Assert.Equal(0, app.World.TotalDnsQueries);
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal(first.Select(Answer), second.Select(Answer));
    }

    [Fact]
    public async Task A_person_is_recognised_by_name_in_any_spelling_or_by_linkedin_but_only_at_the_same_domain()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?> { [AskEveryTime] = "00:00:00" });
        var account = await app.App.CreateAccountAsync();
        await account.EnrichAsync(Batch());

        app.World.ResetObservations();
        var again = await account.EnrichAsync(
            Query("  JANE ", "doe", "ACME.test"),
            Query("Johnny", "Smith", "acme.test", "linkedin.com/in/John-Smith-Acme/"),
            Query("Jane", "Doe", "acme.test", null, Emails)); // a narrower question is answered from the wider one
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(again[0]));
        Assert.Equal([("john.smith@acme.test", "DELIVERABLE")], EmailsOf(again[1]));
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(again[2]));

        // Something that is not a personal profile identifies nobody: another name with it is looked up afresh.
        await account.EnrichAsync(Query("Carl", "Ray", "catchall.test", "https://www.linkedin.com/company/catchall"));
        var companyPage = await account.EnrichAsync(Query("Bob", "Jones", "catchall.test", "https://www.linkedin.com/company/catchall"));
        Assert.Equal([("bob.jones@catchall.test", "CATCH_ALL")], EmailsOf(companyPage[0]));

        // Another person of the same name (another LinkedIn profile) is looked up afresh.
        var namesake = await account.EnrichAsync(Query("John", "Smith", "acme.test", "https://linkedin.com/in/another-john-smith"));
        Assert.True(app.World.TotalRcptCommands > 0, "a namesake with another profile must not get John Smith's cached answer");
        Assert.Equal([("john.smith@acme.test", "DELIVERABLE")], EmailsOf(namesake[0]));
    }

    [Fact]
    public async Task An_answer_left_incomplete_by_an_unreachable_mail_server_is_not_kept()
    {
        var world = World with
        {
            Domains = [.. World.Domains, new DomainDescription { Name = "down.test", Mx = [new MxDescription { Host = "mx.down.test" }], MxAddress = "127.0.0.250" }],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxGreylistRetries"] = "0" });
        var account = await app.App.CreateAccountAsync();
        var results = await account.EnrichAsync(Query("Jane", "Doe", "down.test"), Query("Jane", "Doe", "acme.test"));
        Assert.Empty(EmailsOf(results[0])); // nothing listens at down.test's mail host: no verdict today

        var cache = app.App.Service<ResultsCache>();
        const EnrichFields Both = EnrichFields.Emails | EnrichFields.Phones;
        Assert.Null(await cache.FindAsync(new Person("Jane", "Doe", "down.test", null, null), Both, CancellationToken.None));
        Assert.NotNull(await cache.FindAsync(new Person("Jane", "Doe", "acme.test", null, null), Both, CancellationToken.None));
    }

    [Fact]
    public async Task A_directory_import_forgets_the_answers_it_may_change()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        var before = await account.EnrichAsync(Query("Ann", "Lee", "catchall.test"));
        Assert.Equal([("ann.lee@catchall.test", "CATCH_ALL")], EmailsOf(before[0]));
        Assert.Empty(PhonesOf(before[0]));

        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader("""
            firstname,lastname,domain,email,phone,region
            Ann,Lee,catchall.test,ann.lee@catchall.test,+33 6 12 34 56 78,FR
            """), CancellationToken.None);
        var after = await account.EnrichAsync(Query("Ann", "Lee", "catchall.test"));
        Assert.Equal([("ann.lee@catchall.test", "HIGH_PROBABILITY")], EmailsOf(after[0]));
        Assert.Equal([("+33612345678", "FR")], PhonesOf(after[0]));
    }

    [Fact]
    public async Task An_answer_past_its_ttl_is_looked_up_again()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?> { ["Cache:Ttl"] = "00:00:00.001", [AskEveryTime] = "00:00:00" });
        var account = await app.App.CreateAccountAsync();
        await account.EnrichAsync(Query("Jane", "Doe", "acme.test"));
        app.World.ResetObservations();
        var again = await account.EnrichAsync(Query("Jane", "Doe", "acme.test"));
        Assert.True(app.World.TotalRcptCommands > 0, "an expired answer must not be reused");
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(again[0]));
    }

    [Fact]
    public async Task With_the_cache_switched_off_every_submission_is_looked_up()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?> { ["Cache:Enabled"] = "false", [AskEveryTime] = "00:00:00" });
        var account = await app.App.CreateAccountAsync();
        await account.EnrichAsync(Query("Jane", "Doe", "acme.test"));
        app.World.ResetObservations();
        await account.EnrichAsync(Query("Jane", "Doe", "acme.test"));
        Assert.True(app.World.TotalRcptCommands > 0);
    }

    private static string Answer(System.Text.Json.Nodes.JsonNode result)
    {
        var copy = result.DeepClone().AsObject();
        copy.Remove("custom");
        return copy.ToJsonString();
    }
}

public sealed class SqliteResultsCacheTests : ResultsCacheTests<Sqlite>;

public sealed class PostgresResultsCacheTests : ResultsCacheTests<Postgres>;
