extern alias SimulatedWorld;

using System.Text.Json.Nodes;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Tests.Upstream;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>
/// The whole waterfall through the real app: cache, directory, website, SMTP-verified patterns, upstream,
/// each asked only for what is still missing, against the simulated world and a scripted upstream on loopback.
/// </summary>
public abstract class WaterfallOrderTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            TeamSite.Acme(
                "<a href=\"/team\">Our team</a><footer>Switchboard <a href=\"tel:+12125550100\">+1 212-555-0100</a></footer>",
                "<ul>" +
                "<li><h3>Jane Doe</h3><p>Head of Sales</p><p>Mobile <a href=\"tel:+14153450123\">(415) 345-0123</a></p></li>" +
                "<li><h3>John Smith</h3><p>Engineer</p><p>Phone <a href=\"tel:+12123450177\">(212) 345-0177</a></p></li>" +
                "</ul>"),
        ],
    };

    [Fact]
    public async Task Email_from_the_directory_phone_from_the_website_one_crawl_and_the_upstream_never_called()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey()));
        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader("""
            firstname,lastname,domain,email
            Jane,Doe,acme.test,jane.doe@acme.test
            """), CancellationToken.None);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test"), Query("John", "Smith", "acme.test"));

        // Jane: the directory's address, verified by the domain's server; her number from the team page.
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([("+14153450123", "US")], PhonesOf(results[0]));
        // John: no directory row, the page gave his number, the finder his address; never the switchboard.
        Assert.Equal([("john.smith@acme.test", "DELIVERABLE")], EmailsOf(results[1]));
        Assert.Equal([("+12123450177", "US")], PhonesOf(results[1]));

        // One crawl for the two of them: no page was fetched twice.
        var pages = app.World.HttpRequests.Where(r => r.Path != "/robots.txt").GroupBy(r => r.Path).ToList();
        Assert.Contains(pages, p => p.Key == "/team");
        Assert.All(pages, p => Assert.Single(p));
        Assert.Empty(upstream.Submissions); // everything was found before the last source

        // Asked again (other fields, other batch): the cache answers, nobody is asked anything.
        app.World.ResetObservations();
        var again = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Phones));
        Assert.Equal([("+14153450123", "US")], PhonesOf(again[0]));
        Assert.Equal(0, app.World.TotalHttpRequests + app.World.TotalSessions + app.World.TotalDnsQueries);
        Assert.Empty(upstream.Submissions);
    }

    [Fact]
    public async Task What_no_earlier_source_found_is_asked_of_the_upstream_and_only_that()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey()));
        upstream.Answer = person => new JsonObject
        {
            ["emails"] = new JsonArray(new JsonObject { ["email"] = "ada.byron@acme.test", ["status"] = "DELIVERABLE" }),
            ["phones"] = new JsonArray(new JsonObject { ["number"] = "+14153450199", ["region"] = "US" }),
        };
        var account = await app.App.CreateAccountAsync();

        // Nobody at acme.test is called Ada Byron: the site has no number for her and the server no mailbox.
        var results = await account.EnrichAsync(Query("Ada", "Byron", "acme.test"), Query("Jane", "Doe", "acme.test", null, Phones));

        var submission = Assert.Single(upstream.Submissions);
        var asked = Assert.Single(submission.People); // Jane's number came from the site: she is not sent
        Assert.Equal("Ada", asked["firstname"]!.GetValue<string>());
        Assert.Equal([Emails, Phones], asked["enrich_fields"]!.AsArray().Select(f => f!.GetValue<string>()).Order());
        Assert.Equal([("+14153450199", "US")], PhonesOf(results[0]));
        // The upstream called the address deliverable; the domain's own server said there is no such mailbox,
        // and what we saw ourselves wins: the user learns it bounces, and it is never the most probable.
        Assert.Equal([("ada.byron@acme.test", "INVALID")], EmailsOf(results[0]));
        Assert.Null(results[0]["most_probable_email"]);
        Assert.Equal([("+14153450123", "US")], PhonesOf(results[1]));
    }
}

public sealed class SqliteWaterfallOrderTests : WaterfallOrderTests<Sqlite>;

public sealed class PostgresWaterfallOrderTests : WaterfallOrderTests<Postgres>;
