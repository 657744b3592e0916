using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using PhoneNumbers;

namespace PeopleEnrich.MailWorld.Tests;

public sealed partial class WebsiteGeneratorTests
{
    private static readonly WorldGeneratorOptions Big = new() { Seed = 42, DomainCount = 40, PeopleCount = 400 };

    [Fact]
    public void Websites_are_off_by_default_and_turning_them_on_leaves_the_mail_world_as_it_was_but_for_country_names()
    {
        var without = WorldGenerator.Generate(Big);
        var with = WorldGenerator.Generate(Big with { Websites = true });
        Assert.Empty(without.Websites);
        Assert.All(without.Description.Domains, d => Assert.Null(d.Website));
        Assert.DoesNotContain("website", without.Description.ToJson());

        Assert.InRange(with.Websites.Count, 10, 30);
        Assert.Equal(with.Websites.Select(w => w.Domain), with.Description.Domains.Where(d => d.Website is not null).Select(d => d.Name));
        Assert.Equal(without.Domains.Select(d => (d.Scenario, d.Pattern, Base(d.Name))), with.Domains.Select(d => (d.Scenario, d.Pattern, Base(d.Name))));
        Assert.Contains(with.Domains, d => !d.Name.EndsWith(".test", StringComparison.Ordinal));
        Assert.Equal(
            without.People.Select(p => (p.FirstName, p.LastName, Base(p.Domain), p.Address?.Split('@')[0])),
            with.People.Select(p => (p.FirstName, p.LastName, Base(p.Domain), p.Address?.Split('@')[0])));
        Assert.Equal(
            without.Description.Domains.Select(d => d with { Name = Base(d.Name), Mx = null }),
            with.Description.Domains.Select(d => d with { Name = Base(d.Name), Mx = null, Website = null }),
            new DomainComparer());

        static string Base(string name) => name[..name.IndexOf('.')];
    }

    [Fact]
    public void The_same_seed_gives_the_same_websites_and_another_seed_others()
    {
        var a = WorldGenerator.Generate(Big with { Websites = true });
        var b = WorldGenerator.Generate(Big with { Websites = true });
        var c = WorldGenerator.Generate(Big with { Websites = true, Seed = 43 });
        Assert.Equal(a.Description.ToJson(), b.Description.ToJson());
        Assert.Equal(Truth(a), Truth(b));
        Assert.NotEqual(a.Description.ToJson(), c.Description.ToJson());
        Assert.NotEqual(Truth(a), Truth(c));
        Assert.Equal(a.Description.ToJson(), WorldDescription.Parse(a.Description.ToJson()).ToJson());

        static string Truth(GeneratedWorld w) => string.Join("\n", w.Websites.Select(s =>
            $"{s with { Team = [] }} {string.Join(" | ", s.Team)}"));
    }

    [Fact]
    public void Every_number_is_valid_in_its_region_written_nationally_and_each_region_appears()
    {
        var regions = new HashSet<string>();
        var util = PhoneNumberUtil.GetInstance();
        for (var seed = 1; seed <= 12; seed++)
        {
            var world = WorldGenerator.Generate(Big with { Seed = seed, Websites = true });
            foreach (var site in world.Websites)
            {
                regions.Add(site.Region);
                var suffix = site.Domain[site.Domain.IndexOf('.')..];
                Assert.Equal(suffix switch { ".de" => "DE", ".fr" => "FR", ".co.uk" => "GB", ".test" => "US", _ => "?" }, site.Region);
                var numbers = site.Team.Select(t => t.Phone).Append(site.Switchboard).Append(site.ForbiddenMobile).ToList();
                Assert.Equal(numbers.Count, numbers.Select(n => n.E164).Distinct().Count());
                foreach (var phone in numbers)
                {
                    var parsed = util.Parse(phone.National, site.Region);
                    Assert.True(util.IsValidNumberForRegion(parsed, site.Region), $"{phone.National} is not a valid {site.Region} number");
                    Assert.Equal(phone.E164, util.Format(parsed, PhoneNumberFormat.E164));
                    Assert.DoesNotContain("+", phone.National, StringComparison.Ordinal);
                }
                if (site.Region != "US")
                    Assert.Equal(PhoneNumberType.MOBILE, util.GetNumberType(util.Parse(site.ForbiddenMobile.E164, null)));
            }
        }
        Assert.Equal(["DE", "FR", "GB", "US"], regions.Order());
    }

    [Fact]
    public async Task The_served_pages_say_what_the_ground_truth_says()
    {
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions { Seed = 7, DomainCount = 24, PeopleCount = 200, TarpitMs = 500, Websites = true });
        await using var world = await MailWorld.StartAsync(generated.Description);
        using var client = world.Client();
        Assert.Contains(generated.Websites, s => s.HttpRedirectsToHttpsWww);
        Assert.Contains(generated.Websites, s => !s.HttpRedirectsToHttpsWww);
        Assert.Contains(generated.Websites, s => s.Team.Any(t => t.Email is null));

        foreach (var site in generated.Websites)
        {
            var robots = await client.GetStringAsync(world.Http(site.Domain, "/robots.txt"));
            Assert.Equal($"User-agent: *\nDisallow: {site.ForbiddenPath}\n", robots);

            using var first = await client.GetAsync(world.Http(site.Domain, "/"));
            string home;
            if (site.HttpRedirectsToHttpsWww)
            {
                Assert.Equal(HttpStatusCode.MovedPermanently, first.StatusCode);
                var location = first.Headers.Location!;
                Assert.Equal(world.Https("www." + site.Domain, "/"), location.OriginalString);
                home = await client.GetStringAsync(location);
            }
            else home = await first.Content.ReadAsStringAsync();
            Assert.Contains($"href=\"{site.TeamPath}\"", home, StringComparison.Ordinal);
            Assert.Contains($"href=\"{site.ForbiddenPath}\"", home, StringComparison.Ordinal);
            Assert.Contains($"<footer>", home, StringComparison.Ordinal);
            Assert.Contains(site.Switchboard.National, Footer(home), StringComparison.Ordinal);

            var team = await client.GetStringAsync(world.Https(site.Domain, site.TeamPath));
            var cards = Card().Matches(team).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["rest"].Value);
            Assert.Equal(site.Team.Select(t => $"{t.Person.FirstName} {t.Person.LastName}").Order(), cards.Keys.Order());
            foreach (var listed in site.Team)
            {
                var card = cards[$"{listed.Person.FirstName} {listed.Person.LastName}"];
                Assert.Equal(listed.Person.Domain, site.Domain);
                Assert.Equal(listed.Person.Address, listed.Email);
                Assert.Contains(listed.Phone.National, card, StringComparison.Ordinal);
                switch (listed.Writing)
                {
                    case null:
                        Assert.DoesNotContain("@", card, StringComparison.Ordinal);
                        Assert.DoesNotContain("email", card, StringComparison.Ordinal);
                        break;
                    case EmailWriting.Mailto:
                        Assert.Contains($"<a href=\"mailto:{listed.Email}\">{listed.Email}</a>", card, StringComparison.Ordinal);
                        break;
                    case EmailWriting.AtDot:
                        var (local, domain) = (listed.Email![..listed.Email!.IndexOf('@')], listed.Email[(listed.Email.IndexOf('@') + 1)..]);
                        Assert.Contains($"{local} [at] {domain.Replace(".", " [dot] ", StringComparison.Ordinal)}", card, StringComparison.Ordinal);
                        Assert.DoesNotContain(listed.Email, team, StringComparison.Ordinal);
                        break;
                    case EmailWriting.CloudflareProtected:
                        var protectedLink = CloudflareLink().Match(card);
                        Assert.True(protectedLink.Success, card);
                        Assert.Equal(protectedLink.Groups["href"].Value, protectedLink.Groups["data"].Value);
                        Assert.Equal(listed.Email, DecodeCloudflare(protectedLink.Groups["data"].Value));
                        Assert.DoesNotContain(listed.Email!, team, StringComparison.Ordinal);
                        break;
                }
            }
            var withAddress = site.Team.Where(t => t.Email is not null).ToList();
            Assert.Equal(withAddress.Count >= 1, withAddress.Any(t => t.Writing == EmailWriting.CloudflareProtected));
            Assert.Equal(withAddress.Count >= 2, withAddress.Any(t => t.Writing == EmailWriting.AtDot));
            Assert.Contains(site.Switchboard.National, Footer(team), StringComparison.Ordinal);
            Assert.All(cards.Values, c => Assert.DoesNotContain(site.Switchboard.National, c, StringComparison.Ordinal));
            Assert.DoesNotContain(site.ForbiddenMobile.National, team, StringComparison.Ordinal);
            Assert.DoesNotContain(site.ForbiddenMobile.National, home, StringComparison.Ordinal);

            var forbidden = await client.GetStringAsync(world.Http(site.Domain, site.ForbiddenPath));
            Assert.Contains($"{site.ForbiddenPerson.FirstName} {site.ForbiddenPerson.LastName}", forbidden, StringComparison.Ordinal);
            Assert.Contains(site.ForbiddenMobile.National, forbidden, StringComparison.Ordinal);
            Assert.Contains(site.Team, t => t.Person == site.ForbiddenPerson);
            Assert.True(world.HttpRequestCount(site.Domain) >= 4);
        }
        Assert.Equal(generated.Websites.Count, world.Websites.Count);
    }

    /// <summary>Cloudflare's decoding, written from its description: the first byte is the key, each next byte XOR the key is a character.</summary>
    private static string DecodeCloudflare(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        return Encoding.UTF8.GetString(bytes.Skip(1).Select(b => (byte)(b ^ bytes[0])).ToArray());
    }

    private static string Footer(string page) => page[page.IndexOf("<footer>", StringComparison.Ordinal)..page.IndexOf("</footer>", StringComparison.Ordinal)];

    [GeneratedRegex("""<div class="card"><h3>(?<name>[^<]+)</h3>(?<rest>.*?)</div>""")]
    private static partial Regex Card();

    [GeneratedRegex("""<a href="/cdn-cgi/l/email-protection#(?<href>[0-9a-f]+)"><span class="__cf_email__" data-cfemail="(?<data>[0-9a-f]+)">\[email&#160;protected\]</span></a>""")]
    private static partial Regex CloudflareLink();

    /// <summary>Domain descriptions compared by their JSON (records holding lists compare those by reference).</summary>
    private sealed class DomainComparer : IEqualityComparer<DomainDescription>
    {
        public bool Equals(DomainDescription? x, DomainDescription? y) => Json(x) == Json(y);
        public int GetHashCode(DomainDescription obj) => Json(obj).GetHashCode(StringComparison.Ordinal);
        private static string Json(DomainDescription? d) => new WorldDescription { Domains = d is null ? [] : [d] }.ToJson();
    }
}
