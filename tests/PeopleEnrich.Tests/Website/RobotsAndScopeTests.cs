using PeopleEnrich.Sources.Website;

namespace PeopleEnrich.Tests.Website;

/// <summary>robots.txt as RFC 9309 reads it, for our product token; and which URLs and domains a crawl may touch.</summary>
public sealed class RobotsAndScopeTests
{
    private const string Robots = """
        # Everyone but us may see the team.
        User-agent: *
        Disallow: /private
        Allow: /private/press

        User-agent: OtherBot
        User-agent: peopleenrichbot
        Disallow: /team
        Allow: /team/public
        Disallow: /*.php$
        Disallow: /search*q=

        Sitemap: https://acme.com/sitemap.xml
        """;

    [Theory]
    [InlineData("/team", false)]
    [InlineData("/team/people", false)]
    [InlineData("/team/public", true)] // the longer rule wins
    [InlineData("/private", true)] // our group replaces the * group entirely
    [InlineData("/index.php", false)]
    [InlineData("/index.php?x=1", true)] // $ anchors the end
    [InlineData("/search?lang=en&q=jane", false)]
    [InlineData("/about", true)]
    public void Our_group_is_found_case_insensitively_and_the_longest_rule_decides(string path, bool allowed)
    {
        var robots = RobotsTxt.Parse(Robots, "PeopleEnrichBot");

        Assert.Equal(allowed, robots.Allows(new Uri("https://acme.com" + path)));
    }

    [Theory]
    [InlineData("/private", false)]
    [InlineData("/private/press", true)]
    [InlineData("/team", true)]
    public void A_crawler_with_no_group_of_its_own_follows_the_star_group(string path, bool allowed)
    {
        var robots = RobotsTxt.Parse(Robots, "SomeOtherCrawler");

        Assert.Equal(allowed, robots.Allows(new Uri("https://acme.com" + path)));
    }

    [Fact]
    public void An_allow_and_a_disallow_of_equal_length_allow_and_an_empty_disallow_forbids_nothing()
    {
        Assert.True(RobotsTxt.Parse("User-agent: *\nDisallow: /page\nAllow: /page\n", "PeopleEnrichBot").Allows(new Uri("https://acme.com/page")));
        Assert.True(RobotsTxt.Parse("User-agent: *\nDisallow:\n", "PeopleEnrichBot").Allows(new Uri("https://acme.com/anything")));
        Assert.False(RobotsTxt.DisallowAll.Allows(new Uri("https://acme.com/")));
        Assert.True(RobotsTxt.AllowAll.Allows(new Uri("https://acme.com/team")));
    }

    [Theory]
    [InlineData("https://acme.co.uk/team", true)]
    [InlineData("http://www.acme.co.uk/", true)]
    [InlineData("https://shop.eu.acme.co.uk/contact", true)]
    [InlineData("https://other.co.uk/", false)]
    [InlineData("https://co.uk/", false)]
    [InlineData("https://notacme.co.uk/", false)]
    [InlineData("https://acme.co.uk.evil.com/", false)]
    [InlineData("https://10.0.0.5/", false)]
    [InlineData("ftp://acme.co.uk/", false)]
    [InlineData("http://acme.co.uk:80/team", true)]
    [InlineData("https://www.acme.co.uk:443/", true)]
    [InlineData("http://x.acme.co.uk:25/", false)]
    [InlineData("https://acme.co.uk:8443/", false)]
    [InlineData("http://acme.co.uk:443/", false)]
    public void A_site_is_its_domain_and_the_domains_under_it_at_the_port_of_their_scheme_and_nothing_else(string url, bool inside)
    {
        Assert.Equal(inside, new SiteScope("acme.co.uk", 80, 443).Contains(new Uri(url)));
    }

    [Theory]
    [InlineData("http://acme.com/team", true)]
    [InlineData("http://www.acme.com:8080/", true)]
    [InlineData("https://acme.com:8443/team", true)]
    [InlineData("https://acme.com/", true)]
    [InlineData("http://acme.com:8443/", false)]
    [InlineData("https://acme.com:8080/", false)]
    [InlineData("https://acme.com:9000/x", false)]
    [InlineData("http://acme.com:25/", false)]
    [InlineData("http://acme.com:80/", true)] // the default port stands for the configured one, as in a URL naming none
    public void Only_the_configured_port_of_each_scheme_is_in_the_site(string url, bool inside)
    {
        Assert.Equal(inside, new SiteScope("acme.com", 8080, 8443).Contains(new Uri(url)));
    }

    [Theory]
    [InlineData("acme.com", true)]
    [InlineData("acme.co.uk", true)]
    [InlineData("co.uk", false)]
    [InlineData("com.au", false)]
    [InlineData("gmail.com", false)]
    [InlineData("yahoo.co.uk", false)]
    [InlineData("mailinator.com", false)]
    [InlineData("acme.example", false)]
    [InlineData("example.com", false)]
    [InlineData("acme.invalid", false)]
    public void Free_mail_reserved_domains_and_public_suffixes_are_never_crawled(string domain, bool crawlable)
    {
        Assert.Equal(crawlable, SiteScope.IsCrawlable(domain));
    }

    [Fact]
    public void Urls_that_name_no_port_get_the_configured_one_of_their_scheme()
    {
        var scope = new SiteScope("acme.com", 8080, 8443);

        Assert.Equal("http://acme.com:8080/team", scope.WithPort(new Uri("http://acme.com/team")).ToString());
        Assert.Equal("https://www.acme.com:8443/", scope.Root("https", "www.acme.com").ToString());
        Assert.Equal("https://acme.com:9000/x", scope.WithPort(new Uri("https://acme.com:9000/x")).ToString());
    }
}
