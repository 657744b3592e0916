extern alias SimulatedWorld;

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Sources.Website;
using PeopleEnrich.Tests.EmailFinder;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Network;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Website;

/// <summary>
/// The crawler's rules, through the real API against the simulated world's web servers and DNS on
/// loopback: robots.txt obeyed for our User-Agent, redirects followed only inside the site and never
/// to a private address, a 50 MiB page cut at the byte limit, and a crawl within its page budget.
/// </summary>
public abstract class CrawlRulesTests<TProvider> where TProvider : IDatabaseProvider
{
    private const long FiftyMiB = 50L * 1024 * 1024;
    private const int OneMiB = 1024 * 1024;

    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = "acme.test",
                Mx = [new MxDescription { Host = "mx.acme.test" }],
                Mailboxes = ["jane.doe"],
                Website = new WebsiteDescription
                {
                    // The * group would allow /team-private; ours forbids it, and our group is the one that applies.
                    RobotsTxt = "User-agent: *\nDisallow: /nothing\n\nUser-agent: PeopleEnrichBot\nDisallow: /team-private\n",
                    Pages =
                    [
                        new PageDescription
                        {
                            Path = "/",
                            Body = """
                                <html lang="fr"><body><nav>
                                  <a href="/team-private">Our team</a>
                                  <a href="/old-contact">Contact (old)</a>
                                  <a href="/moved-team">Team (moved)</a>
                                  <a href="/metadata-team">Team (cloud)</a>
                                  <a href="/ported-team">Team (other port)</a>
                                  <a href="/about">About us</a>
                                  <a href="/people">People</a>
                                </nav></body></html>
                                """,
                        },
                        new PageDescription { Path = "/team-private", Body = "<p>Jane Doe, 06 11 11 11 11</p>" },
                        new PageDescription { Path = "/old-contact", Status = 301, Location = "http://other.test/contact", Body = "" },
                        new PageDescription { Path = "/moved-team", Status = 302, Location = "http://intranet.acme.test/team", Body = "" },
                        new PageDescription { Path = "/metadata-team", Status = 302, Location = "http://169.254.169.254/latest/meta-data/", Body = "" },
                        // In the site by its name, but at the https listener's port over http: any port could be named there.
                        new PageDescription { Path = "/ported-team", Status = 302, Location = $"http://www.acme.test:{PortPlaceholders.Https}/people", Body = "" },
                        new PageDescription { Path = "/about", BodyBytes = FiftyMiB },
                        new PageDescription { Path = "/people", Body = "<html lang=\"fr\"><body><ul><li>Jane Doe — jane.doe@acme.test — 06 12 34 56 78</li></ul></body></html>" },
                    ],
                },
            },
            new DomainDescription
            {
                Name = "other.test",
                Website = new WebsiteDescription { Pages = [new PageDescription { Path = "/contact", Body = "<p>Jane Doe, 06 22 22 22 22</p>" }] },
            },
            // In acme.test's site, but its name answers a private address.
            new DomainDescription { Name = "intranet.acme.test", Website = new WebsiteDescription { Address = "10.0.0.5" } },
            new DomainDescription { Name = "dark.test", Website = new WebsiteDescription { Address = "10.0.0.5" } },
            new DomainDescription
            {
                Name = "big.test",
                Website = new WebsiteDescription
                {
                    Pages =
                    [
                        new PageDescription { Path = "/", Body = "<html><body>" + string.Concat(Enumerable.Range(1, 40).Select(i => $"<a href=\"/team/{i}\">Team {i}</a>")) + "</body></html>" },
                        .. Enumerable.Range(1, 40).Select(i => new PageDescription { Path = $"/team/{i}", Body = $"<p>Person Number{i}</p>" }),
                    ],
                },
            },
        ],
    };

    [Fact]
    public async Task Robots_txt_off_site_and_private_redirects_and_a_50_MiB_page_are_handled_and_the_crawl_goes_on()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        // Checked first, so that a broken rule fails here rather than sending a packet off the machine.
        var guard = app.App.Service<NetworkGuard>();
        Assert.False(guard.IsAllowed(IPAddress.Parse("10.0.0.5")));
        Assert.False(guard.IsAllowed(IPAddress.Parse("169.254.169.254")));
        Assert.False(new SiteScope("acme.test", 80, 443).Contains(new Uri("http://169.254.169.254/latest/meta-data/")));
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test"), Query("Eve", "Dark", "dark.test", null, Phones));
        await app.World.WhenHttpIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        // The crawl went past everything below to the last page, where Jane is.
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([("+33612345678", "FR")], PhonesOf(results[0]));
        var requests = app.World.HttpRequests;
        Assert.Contains(requests, r => r.Host == "acme.test" && r.Path == "/people" && r.Status == 200);

        // robots.txt was read with our honest User-Agent, and the page it forbids us was never asked for.
        var robots = Assert.Single(requests, r => r.Host == "acme.test" && r.Path == "/robots.txt");
        Assert.StartsWith("PeopleEnrichBot/1.0", robots.UserAgent, StringComparison.Ordinal);
        Assert.All(requests, r => Assert.Equal(robots.UserAgent, r.UserAgent));
        Assert.DoesNotContain(requests, r => r.Path == "/team-private");

        // The redirect to another company's site was seen and not followed.
        Assert.Contains(requests, r => r.Path == "/old-contact" && r.Status == 301);
        Assert.Equal(0, app.World.HttpRequestCount("other.test"));
        Assert.Contains(logs.Messages, m => m.Contains("Not following http://other.test", StringComparison.Ordinal));

        // The redirect inside the site to a name that answers 10.0.0.5, and the one to the metadata address: no connection.
        Assert.Contains(requests, r => r.Path == "/moved-team" && r.Status == 302);
        Assert.True(app.World.DnsQueryCount("intranet.acme.test", "A") >= 1, "the private redirect was never resolved: the test proves nothing");
        Assert.Contains(logs.Messages, m => m.Contains("intranet.acme.test resolves to 10.0.0.5, which is not public", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Path == "/metadata-team" && r.Status == 302);
        Assert.Contains(logs.Messages, m => m.Contains("Not following http://169.254.169.254", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Contains("Refused to connect", StringComparison.Ordinal)); // refused before the guard's own connect

        // The redirect to another port of the site's own name: not followed.
        Assert.Contains(requests, r => r.Path == "/ported-team" && r.Status == 302);
        Assert.Contains(logs.Messages, m => m.Contains($"Not following http://www.acme.test:{app.World.HttpsPort}/people", StringComparison.Ordinal));

        // A site whose address is private is never connected to, and its person gets nothing.
        Assert.Empty(PhonesOf(results[1]));
        Assert.True(app.World.DnsQueryCount("dark.test", "A") >= 1, "dark.test was never resolved: the test proves nothing");
        Assert.Contains(logs.Messages, m => m.Contains("dark.test resolves to 10.0.0.5, which is not public", StringComparison.Ordinal));

        // The 50 MiB page: read up to 1 MiB and dropped. The server sent what our reader took plus what the
        // kernels buffered on the way (the receive buffer grows with the transfer), far from the whole page.
        var about = Assert.Single(requests, r => r.Host == "acme.test" && r.Path == "/about");
        Assert.InRange(about.BytesSent, OneMiB, FiftyMiB / 4);
    }

    [Fact]
    public async Task A_page_larger_than_the_limit_is_read_exactly_up_to_it()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var options = app.App.Service<IOptions<CrawlerOptions>>().Value;
        var scope = new SiteScope("acme.test", options.HttpPort, options.HttpsPort);
        var session = new CrawlSession(app.App.Service<CrawlerHttp>().Client, options, scope, NullLogger.Instance);

        var page = Assert.IsType<FetchOutcome.Page>(await session.FetchPageAsync(new Uri("https://acme.test/about"), CancellationToken.None));
        await app.World.WhenHttpIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(OneMiB, options.MaxBytes);
        Assert.Equal(OneMiB, page.Text.Length); // the filler is ASCII: one character per byte
        Assert.True(page.Truncated);
        Assert.StartsWith("<!doctype html>", page.Text, StringComparison.Ordinal);
        Assert.InRange(Assert.Single(app.World.HttpRequests, r => r.Path == "/about").BytesSent, OneMiB, FiftyMiB / 4);
    }

    [Fact]
    public async Task A_crawl_of_one_domain_stays_within_its_page_budget()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Person", "Number3", "big.test", null, Phones));

        Assert.Empty(PhonesOf(results[0]));
        var pages = app.World.HttpRequests.Where(r => r.Host == "big.test" && r.Path != "/robots.txt").ToList();
        // 40 likely pages are linked: the default budget of 10 requests is used up, and not exceeded.
        Assert.Equal(10, app.App.Service<IOptions<CrawlerOptions>>().Value.MaxPages);
        Assert.Equal(10, pages.Count);
        Assert.Equal(["/", "/team/1", "/team/2", "/team/3"], pages.Take(4).Select(r => r.Path));
        Assert.Equal(pages.Count, pages.Select(r => r.Path).Distinct().Count());
    }
}

public sealed class SqliteCrawlRulesTests : CrawlRulesTests<Sqlite>;

public sealed class PostgresCrawlRulesTests : CrawlRulesTests<Postgres>;
