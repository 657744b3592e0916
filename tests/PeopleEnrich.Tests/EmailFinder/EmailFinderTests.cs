extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>The email finder through the real API, against a simulated mail world on loopback.</summary>
public abstract class EmailFinderTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Preference = 10, Host = "mx1.acme.test" }, new MxDescription { Preference = 20, Host = "mx2.acme.test" }], Mailboxes = ["jane.doe", "john.smith", "info"] },
            new DomainDescription { Name = "catchall.test", Mx = [new MxDescription { Host = "mx.catchall.test" }], Behaviour = Behaviour.CatchAll },
            new DomainDescription { Name = "known-catchall.test", Mx = [new MxDescription { Host = "mx.known-catchall.test" }], Behaviour = Behaviour.CatchAll },
            new DomainDescription { Name = "nullmx.test", NullMx = true },
            new DomainDescription { Name = "private.test", Mx = [new MxDescription { Host = "mx.private.test" }], MxAddress = "10.0.0.5" },
            new DomainDescription { Name = "blocked.test", Mx = [new MxDescription { Host = "mx.blocked.test" }], Behaviour = Behaviour.PolicyBlock, Mailboxes = ["ann.lee"] },
            new DomainDescription { Name = "grey.test", Mx = [new MxDescription { Host = "mx.grey.test" }], Behaviour = Behaviour.Greylist, GreylistSeconds = 1, Mailboxes = ["mark.twain"] },
            new DomainDescription { Name = "tls.test", Mx = [new MxDescription { Host = "mx.tls.test" }], Starttls = StartTls.Required, Mailboxes = ["alan.turing"] },
            new DomainDescription { Name = "m365.test", Mx = [new MxDescription { Host = "mx.m365.test" }], Behaviour = Behaviour.M365, Mailboxes = ["rturing"] },
        ],
    };

    [Fact]
    public async Task Each_kind_of_domain_gets_the_verdict_it_deserves_and_no_mail_is_ever_sent()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        // Two published addresses teach known-catchall.test its pattern (first.last), from the directory.
        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader("""
            firstname,lastname,domain,email
            Grace,Hopper,known-catchall.test,grace.hopper@known-catchall.test
            Gone,Away,acme.test,gone.away@acme.test
            """), CancellationToken.None);
        var account = await app.App.CreateAccountAsync();
        var learning = await account.EnrichAsync(Query("Grace", "Hopper", "known-catchall.test"));
        Assert.Equal([("grace.hopper@known-catchall.test", "HIGH_PROBABILITY")], EmailsOf(learning[0]));

        var results = await account.EnrichAsync(
            Query("Jane", "Doe", "acme.test"),
            Query("Zed", "Nobody", "acme.test"),
            Query("Ann", "Lee", "catchall.test"),
            Query("Ada", "King", "known-catchall.test"),
            Query("Null", "Mail", "nullmx.test"),
            Query("Pri", "Vate", "private.test"),
            Query("Ann", "Lee", "blocked.test"),
            Query("Mark", "Twain", "grey.test"),
            Query("Alan", "Turing", "tls.test"),
            Query("Robert", "Turing", "m365.test"),
            Query("Gone", "Away", "acme.test"));

        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal("jane.doe@acme.test", results[0]["most_probable_email"]!.GetValue<string>());
        Assert.Empty(EmailsOf(results[1])); // rejected guesses are not news
        Assert.Equal([("ann.lee@catchall.test", "CATCH_ALL")], EmailsOf(results[2])); // one best guess, never a list
        Assert.Equal([("ada.king@known-catchall.test", "HIGH_PROBABILITY")], EmailsOf(results[3]));
        Assert.Empty(EmailsOf(results[4]));
        Assert.Empty(EmailsOf(results[5]));
        Assert.Empty(EmailsOf(results[6])); // refused by policy: no verdict, certainly not INVALID
        Assert.Equal([("mark.twain@grey.test", "DELIVERABLE")], EmailsOf(results[7])); // after the greylisting retry
        Assert.Equal([("alan.turing@tls.test", "DELIVERABLE")], EmailsOf(results[8]));
        Assert.Equal([("rturing@m365.test", "DELIVERABLE")], EmailsOf(results[9]));
        Assert.Equal([("gone.away@acme.test", "INVALID")], EmailsOf(results[10])); // the directory's address now bounces
        Assert.False(results[10].AsObject().ContainsKey("most_probable_email"));

        Assert.Equal(0, app.World.DataAttempts);
        Assert.Empty(app.World.HostsOf("nullmx.test"));
        Assert.All(app.World.Hosts.SelectMany(h => h.Transcript.Lines), line =>
            Assert.DoesNotMatch("^(DATA|BDAT)", line.Text.ToUpperInvariant()));
        // The catch-all is learned once and kept. (Not one session: a second may open while the probe is answered, to be
        // ready for the candidates that a checking domain's answer would let through.)
        Assert.Equal(1, DomainLaneTests<TProvider>.ProbesAsked(app.World.Host("mx.catchall.test")));
    }
}

public sealed class SqliteEmailFinderTests : EmailFinderTests<Sqlite>;

public sealed class PostgresEmailFinderTests : EmailFinderTests<Postgres>;
