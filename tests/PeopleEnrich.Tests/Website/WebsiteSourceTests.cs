extern alias SimulatedWorld;

using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Website;

/// <summary>
/// What company sites give, through the real API against the simulated world (DNS, web and mail
/// servers on loopback): a person's own address and numbers, the switchboard never, other people's
/// addresses teaching a catch-all domain's pattern, numbers in E.164 with their region, one crawl per domain.
/// </summary>
public abstract class WebsiteSourceTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Team = """
        <!doctype html><html lang="fr"><body>
        <header><p>Standard : <a href="tel:+33142685300">01 42 68 53 00</a></p></header>
        <main><div class="team">
          <div class="member"><h3>Jane Doe</h3><p>Directrice</p>
            <p><a href="mailto:jane.doe@people.test">jane.doe@people.test</a></p>
            <p>Fixe : 01 42 68 53 10</p><p>Portable : 06 12 34 56 78</p></div>
          <div class="member"><h3>John Smith</h3><p>Tél. 01 42 68 53 00</p></div>
        </div></main>
        <footer><p>info@people.test</p></footer>
        </body></html>
        """;

    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = "people.test",
                Mx = [new MxDescription { Host = "mx.people.test" }],
                Mailboxes = ["jane.doe", "john.smith"],
                Website = Site(Home("/equipe", "Notre équipe"), new PageDescription { Path = "/equipe", Body = Team }),
            },
            new DomainDescription
            {
                Name = "catchall.test",
                Mx = [new MxDescription { Host = "mx.catchall.test" }],
                Behaviour = Behaviour.CatchAll,
                Website = Site(Home("/team", "Team"), new PageDescription
                {
                    Path = "/team",
                    Body = "<ul><li>Ann Lee, CEO: <a href=\"mailto:ann.lee@catchall.test\">write to Ann</a></li><li>Bob Ray, CTO: bob.ray [at] catchall [dot] test</li></ul>",
                }),
            },
            new DomainDescription
            {
                Name = "onepub.test",
                Mx = [new MxDescription { Host = "mx.onepub.test" }],
                Behaviour = Behaviour.CatchAll,
                Website = Site(Home("/contact", "Contact"), new PageDescription { Path = "/contact", Body = "<p>Ann Lee: ann.lee@onepub.test</p>" }),
            },
            new DomainDescription
            {
                Name = "plain.test",
                Website = new WebsiteDescription
                {
                    Https = false,
                    Pages = [new PageDescription { Path = "/", Body = "<html lang=\"de\"><body><p>Hans Müller, Mobil 01512 3456789</p></body></html>" }],
                },
            },
            // Its names answer 127.0.0.1, where no web server listens: every connection is refused.
            new DomainDescription { Name = "down.test", Website = new WebsiteDescription { Address = "127.0.0.1" } },
            new DomainDescription { Name = "failing.test", Website = Site(new PageDescription { Path = "/", Status = 503, Body = "Service Unavailable" }) },
            // Mail, but no address for the domain or www.: no website, as DNS says.
            new DomainDescription { Name = "nosite.test", Mx = [new MxDescription { Host = "mx.nosite.test" }] },
            National("acme-paris.fr", "Jeanne Dupont", "Tél. 01 23 45 67 89, portable 06 12 34 56 78, fax 01 23 45"),
            National("acme-berlin.de", "Jeanne Dupont", "Telefon 030 123456, Mobil 01512 3456789, Fax 030 12"),
            National("acme-london.co.uk", "Jeanne Dupont", "Tel. 0121 234 5678, mobile 07400 123456, fax 0121 23"),
        ],
    };

    [Fact]
    public async Task A_persons_own_address_and_numbers_come_from_their_card_and_the_switchboard_is_never_theirs()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "people.test"), Query("John", "Smith", "people.test"), Query("Hans", "Müller", "plain.test", null, Phones));

        // Jane's listed address is verified by her domain's server; her mobile comes before her fixed line.
        Assert.Equal([("jane.doe@people.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([("+33612345678", "FR"), ("+33142685310", "FR")], PhonesOf(results[0]));
        // John's card shows only the switchboard; his address is the email finder's.
        Assert.Empty(PhonesOf(results[1]));
        Assert.Equal([("john.smith@people.test", "DELIVERABLE")], EmailsOf(results[1]));
        // A site with no https is read over http, and https is tried first everywhere.
        Assert.Equal([("+4915123456789", "DE")], PhonesOf(results[2]));
        Assert.Contains(app.World.HttpRequests, r => r.Host == "plain.test" && r.Scheme == "http" && r.Path == "/" && r.Status == 200);
        Assert.All(app.World.HttpRequests.Where(r => r.Host == "people.test"), r => Assert.Equal("https", r.Scheme));
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task Two_addresses_published_on_a_catch_all_domains_site_make_a_third_persons_address_high_probability()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(
            Query("Ada", "King", "catchall.test", null, Emails),
            Query("Ada", "King", "onepub.test", null, Emails),
            Query("Ann", "Lee", "catchall.test", null, Emails));

        Assert.Equal([("ada.king@catchall.test", "HIGH_PROBABILITY")], EmailsOf(results[0]));
        Assert.Equal("ada.king@catchall.test", results[0]["most_probable_email"]!.GetValue<string>());
        // One published address is not enough evidence of a pattern: only the best guess, unbacked.
        Assert.Equal([("ada.king@onepub.test", "CATCH_ALL")], EmailsOf(results[1]));
        // Ann's own address, published beside her name, is backed by its publication.
        Assert.Equal([("ann.lee@catchall.test", "HIGH_PROBABILITY")], EmailsOf(results[2]));
        Assert.Equal((2L, 1000L, 998L), await account.CreditsAsync()); // CATCH_ALL is free
    }

    [Theory]
    [InlineData("acme-paris.fr", "+33612345678", "+33123456789", "FR")]
    [InlineData("acme-berlin.de", "+4915123456789", "+4930123456", "DE")]
    [InlineData("acme-london.co.uk", "+447400123456", "+441212345678", "GB")]
    public async Task National_numbers_on_a_country_code_site_come_out_in_E164_with_its_region_and_invalid_ones_are_dropped(string domain, string mobile, string fixedLine, string region)
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jeanne", "Dupont", domain, null, Phones));

        Assert.Equal([(mobile, region), (fixedLine, region)], PhonesOf(results[0]));
    }

    [Fact]
    public async Task A_domain_is_crawled_once_for_everyone_and_its_findings_are_kept_for_the_next_batch()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        // Four people at once: the workers share one crawl.
        var first = await account.EnrichAsync(
            Query("Jane", "Doe", "people.test"), Query("John", "Smith", "people.test"), Query("Zed", "Nobody", "people.test"), Query("Amy", "Pond", "people.test"));
        var requests = app.World.HttpRequests.Where(r => r.Host == "people.test").ToList();
        Assert.Single(requests, r => r.Path == "/robots.txt");
        Assert.Single(requests, r => r.Path == "/");
        Assert.Single(requests, r => r.Path == "/equipe");
        Assert.Equal([("+33612345678", "FR"), ("+33142685310", "FR")], PhonesOf(first[0]));

        var before = app.World.TotalHttpRequests;
        var second = await account.EnrichAsync(Query("Jane", "Doe", "people.test"), Query("Rory", "Williams", "people.test"));

        Assert.Equal(before, app.World.TotalHttpRequests); // the kept crawl answered
        Assert.Equal([("+33612345678", "FR"), ("+33142685310", "FR")], PhonesOf(second[0]));
        await using var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None);
        var crawls = (await connection.QueryAsync<(string Domain, long PagesFetched)>("SELECT domain, pages_fetched FROM website_crawls")).ToList();
        Assert.Equal([("people.test", 2L)], crawls); // the home page and /equipe: the well-known paths answered 404
    }

    [Fact]
    public async Task A_site_no_server_answers_is_asked_again_next_time_while_a_domain_with_no_address_is_kept_as_having_no_website()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        Dictionary<string, object>[] people = [Query("Jane", "Doe", "down.test", null, Phones), Query("Jane", "Doe", "failing.test", null, Phones), Query("Jane", "Doe", "nosite.test", null, Phones)];

        var first = await account.EnrichAsync(people);
        // Every home page was asked for (both schemes, both names) and answered 503, the first time and at each of
        // the two retries after an outage (TestApp's Waterfall:OutageRetryAfter): the crawl said nothing.
        Assert.Equal(3 * 4, app.World.HttpRequests.Count(r => r.Host is "failing.test" or "www.failing.test" && r.Path == "/" && r.Status == 503));
        var failingRequests = app.World.HttpRequestCount("failing.test");
        var second = await account.EnrichAsync(people);

        Assert.All([.. first, .. second], r => Assert.Empty(PhonesOf(r)));
        // A site that did not answer is said to be so, never "nothing found"; a domain with no website has nothing to say.
        foreach (var batch in new[] { first, second })
        {
            Assert.Equal("Could not check: the website of down.test did not answer", batch[0]["error"]?.GetValue<string>());
            Assert.Equal("Could not check: the website of failing.test did not answer", batch[1]["error"]?.GetValue<string>());
            Assert.Null(batch[2]["error"]);
        }
        // Neither the crawl nor the person's answer was kept: the next batch asked the site again.
        Assert.True(app.World.HttpRequestCount("failing.test") > failingRequests, "the second batch did not crawl failing.test again");
        Assert.True(app.World.DnsQueryCount("down.test", "A") >= 1, "down.test was never resolved: the test proves nothing");
        await using var connection = await app.App.Service<Database>().OpenAsync(CancellationToken.None);
        var crawls = (await connection.QueryAsync<(string Domain, long PagesFetched)>("SELECT domain, pages_fetched FROM website_crawls")).ToList();
        Assert.Equal([("nosite.test", 0L)], crawls);
        var cached = (await connection.QueryAsync<string>("SELECT DISTINCT domain FROM results_cache")).ToList();
        Assert.Equal(["nosite.test"], cached);
    }

    [Fact]
    public async Task Free_mail_and_reserved_domains_are_never_crawled()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "gmail.com"), Query("Jane", "Doe", "acme.example"));

        Assert.All(results, r => Assert.Empty(PhonesOf(r)));
        Assert.Equal(0, app.World.TotalDnsQueries);
        Assert.Equal(0, app.World.TotalHttpRequests);
    }

    private static PageDescription Home(string path, string text) =>
        new() { Path = "/", Body = $"<html><body><nav><a href=\"{path}\">{text}</a></nav></body></html>" };

    private static WebsiteDescription Site(params PageDescription[] pages) => new() { Pages = pages };

    private static DomainDescription National(string domain, string name, string numbers) => new()
    {
        Name = domain,
        Website = Site(Home("/kontakt", "Kontakt"), new PageDescription { Path = "/kontakt", Body = $"<html><body><p>{name} — {numbers}</p></body></html>" }),
    };
}

public sealed class SqliteWebsiteSourceTests : WebsiteSourceTests<Sqlite>;

public sealed class PostgresWebsiteSourceTests : WebsiteSourceTests<Postgres>;
