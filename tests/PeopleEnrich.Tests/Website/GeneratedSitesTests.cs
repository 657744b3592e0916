extern alias SimulatedWorld;

using System.Text;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Website;

/// <summary>
/// The website source on a generated world whose every domain has a site (American on .test, British,
/// German and French on their own domains; team pages with mailto, Cloudflare-protected and [at]/[dot]
/// addresses, a switchboard in every footer, a robots-forbidden page), through the real API, scored
/// against the world's ground truth.
/// </summary>
public abstract class GeneratedSitesTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task Every_listed_persons_line_and_address_is_found_and_nobody_gets_the_switchboard_or_a_forbidden_number()
    {
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions
        {
            Seed = 2026, DomainCount = 16, PeopleCount = 100, Websites = true, WebsiteShare = 1.0, CountryDomainShare = 0.5,
            TarpitMs = 2_000, SlowReplyDelayMs = 30, GreylistSeconds = 1,
        });
        await using var app = await WorldApp.StartAsync(TProvider.Name, generated.Description);
        var account = await app.App.CreateAccountAsync(credits: 100_000);
        var listed = generated.Websites.SelectMany(site => site.Team.Select(member => (Site: site, Member: member))).ToList();
        var unlisted = generated.People
            .Where(p => generated.Websites.Any(s => s.Domain == p.Domain) && !listed.Any(l => l.Member.Person == p))
            .Take(20).ToList();
        Assert.True(listed.Count >= 20 && unlisted.Count >= 10, $"too small a world to prove anything: {listed.Count} listed, {unlisted.Count} not");

        var results = await account.EnrichAsync([.. listed.Select(l => Query(l.Member.Person.FirstName, l.Member.Person.LastName, l.Site.Domain)),
            .. unlisted.Select(p => Query(p.FirstName, p.LastName, p.Domain, null, Phones))]);

        var report = new StringBuilder("region  listed  line-found  address-listed  addresses-found\n");
        foreach (var region in listed.GroupBy(l => l.Site.Region))
        {
            var indexes = region.Select(l => listed.IndexOf(l)).ToList();
            var withAddress = region.Where(l => l.Member.Email is not null).ToList();
            report.Append($"{region.Key,-6} {indexes.Count,7} {indexes.Count(i => PhonesOf(results[i]).Contains((listed[i].Member.Phone.E164, listed[i].Site.Region))),11} "
                          + $"{withAddress.Count,15} {withAddress.Count(l => EmailsOf(results[listed.IndexOf(l)]).Any(e => e.Email == l.Member.Email)),16}\n");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());

        for (var i = 0; i < listed.Count; i++)
        {
            var (site, member) = listed[i];
            var context = $"{member.Person} on {site.Domain}: {results[i].ToJsonString()}";
            // Their direct line, and only it: not the switchboard, not the mobile that only the forbidden page gives.
            Assert.True(PhonesOf(results[i]).SequenceEqual([(member.Phone.E164, site.Region)]), context);
            if (member.Email is { } address)
            {
                Assert.True(EmailsOf(results[i]).Any(e => e.Email == address), context);
            }
        }

        for (var i = 0; i < unlisted.Count; i++)
        {
            Assert.True(PhonesOf(results[listed.Count + i]).Count == 0, $"{unlisted[i]}: {results[listed.Count + i].ToJsonString()}");
        }

        Assert.DoesNotContain(app.World.HttpRequests, r => r.Path == "/private");
        Assert.All(generated.Websites, site => Assert.True(app.World.HttpRequests.Count(r => r.Path == site.TeamPath && SameSite(r.Host, site.Domain)) == 1, site.Domain));
        Assert.Equal(0, app.World.DataAttempts);
    }

    private static bool SameSite(string host, string domain) => host == domain || host == "www." + domain;
}

public sealed class SqliteGeneratedSitesTests : GeneratedSitesTests<Sqlite>;

public sealed class PostgresGeneratedSitesTests : GeneratedSitesTests<Postgres>;
