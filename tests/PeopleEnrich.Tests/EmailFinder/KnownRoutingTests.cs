extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Dns;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>What DNS said of each domain is kept with the domain knowledge, for every process, and used while DNS is away.</summary>
public abstract class KnownRoutingTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Preference = 10, Host = "mx1.acme.test" }, new MxDescription { Preference = 20, Host = "mx2.acme.test" }], Mailboxes = ["jane.doe", "john.smith"] },
            new DomainDescription { Name = "nullmx.test", NullMx = true },
        ],
    };

    [Fact]
    public async Task Mx_hosts_and_taking_no_mail_are_kept_and_a_process_whose_dns_is_down_still_verifies()
    {
        await using var first = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await first.App.CreateAccountAsync();
        await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails), Query("Null", "Mail", "nullmx.test", null, Emails));

        var routes = first.App.Service<KnownRouting>();
        var acme = Assert.IsType<MailRouting.Hosts>((await routes.GetAsync("acme.test", CancellationToken.None))!.Value.Routing);
        Assert.Equal(["mx1.acme.test", "mx2.acme.test"], acme.Exchangers.Select(h => h.Name));
        Assert.Equal(first.World.Host("mx1.acme.test").Address, Assert.Single(acme.Exchangers[0].Addresses));
        Assert.IsType<MailRouting.NoMail>((await routes.GetAsync("nullmx.test", CancellationToken.None))!.Value.Routing);

        // A second process on the same database, whose resolver answers nothing (port 9 on loopback).
        var settings = new Dictionary<string, string?>(WorldApp.SettingsFor(first.World)) { ["Dns:Servers:0"] = "127.0.0.1:9", ["Dns:Timeout"] = "00:00:01" };
        foreach (var (key, value) in first.App.Database.Settings.Where(s => s.Key.StartsWith("ConnectionStrings:", StringComparison.Ordinal)))
        {
            settings[key] = value;
        }

        await using var second = await TestApp.StartAsync(TProvider.Name, settings);
        var other = await second.CreateAccountAsync();
        var results = await other.EnrichAsync(Query("John", "Smith", "acme.test", null, Emails));
        Assert.Equal([("john.smith@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal(0, first.World.DataAttempts);
    }
}

public sealed class SqliteKnownRoutingTests : KnownRoutingTests<Sqlite>;

public sealed class PostgresKnownRoutingTests : KnownRoutingTests<Postgres>;
