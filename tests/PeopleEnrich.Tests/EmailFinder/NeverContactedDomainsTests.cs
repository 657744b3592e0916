extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// Reserved names (.example, .invalid, .localhost, example.com) can have no mailboxes, and at free-mail
/// domains a guess says nothing of where someone works: the finder asks nobody about them, not even DNS.
/// The world serves some of these names on loopback with a real mailbox, so a finder that did ask would
/// be seen asking (and would find something); the app's only resolver is the world's.
/// </summary>
public abstract class NeverContactedDomainsTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly string[] Mailboxes = ["ada.lovelace"];

    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "acme.example", Mx = [new MxDescription { Host = "mx.acme.example" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "acme.invalid", Mx = [new MxDescription { Host = "mx.acme.invalid" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "acme.localhost", Mx = [new MxDescription { Host = "mx.acme.localhost" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "example.com", Mx = [new MxDescription { Host = "mx.example.com" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "gmail.com", Mx = [new MxDescription { Host = "mx.gmail.com" }], Mailboxes = Mailboxes },
            new DomainDescription { Name = "outlook.com", Mx = [new MxDescription { Host = "mx.outlook.com" }], Mailboxes = Mailboxes },
        ],
    };

    // As a user might write them; each is accepted by the API and normalised to a name the finder must leave alone.
    private static readonly string[] Untouchable =
    [
        "acme.example", "https://www.Acme.Example/team", "acme.invalid", "acme.localhost", "example.com", "mail.example.org", "sub.example.net",
        "gmail.com", "https://www.Gmail.com/", "GMAIL.COM", "outlook.com", "googlemail.com", "hotmail.co.uk", "yahoo.fr", "gmx.de", "mailinator.com",
    ];

    [Fact]
    public async Task Reserved_and_free_mail_domains_get_no_dns_query_no_session_and_no_guess()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Untouchable.Select(domain => Query("Ada", "Lovelace", domain, null, Emails)).ToArray());

        Assert.All(results, result => Assert.Empty(EmailsOf(result)));
        Assert.All(results, result => Assert.False(result.AsObject().ContainsKey("most_probable_email")));
        Assert.True(app.World.TotalDnsQueries == 0, $"DNS was asked: {string.Join(", ", app.World.DnsQueries.Keys)}");
        Assert.Equal(0, app.World.TotalSessions);

        // The control: the same person at an ordinary domain is looked up through this very resolver and found.
        var control = await account.EnrichAsync(Query("Ada", "Lovelace", "acme.test", null, Emails));

        Assert.Equal([("ada.lovelace@acme.test", "DELIVERABLE")], EmailsOf(control[0]));
        Assert.True(app.World.DnsQueryCount("acme.test", "MX") >= 1);
        Assert.All(app.World.DnsQueries.Keys, key => Assert.EndsWith("acme.test", key.Name, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(app.World.TotalSessions, app.World.Host("mx.acme.test").Sessions);
        Assert.Equal(0, app.World.DataAttempts);
    }
}

public sealed class SqliteNeverContactedDomainsTests : NeverContactedDomainsTests<Sqlite>;

public sealed class PostgresNeverContactedDomainsTests : NeverContactedDomainsTests<Postgres>;
