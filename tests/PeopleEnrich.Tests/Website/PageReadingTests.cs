using PeopleEnrich.Answers;
using PeopleEnrich.Sources.Website;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Website;

/// <summary>
/// Pages read into what the website source returns for a person: HTML strings through the real
/// reader (AngleSharp), the crawl's combining of pages, and the source's rules of who owns what.
/// </summary>
public sealed class PageReadingTests
{
    private const string FrenchTeam = """
        <!doctype html><html lang="fr"><body>
        <header><a href="tel:+33142685300">+33 1 42 68 53 00</a></header>
        <main>
          <div class="grid">
            <div class="member">
              <h3>Jeanne Dupont</h3><p>Directrice commerciale</p>
              <p><a href="mailto:jeanne.dupont@acme.fr">jeanne.dupont@acme.fr</a></p>
              <p>Fixe : 01 42 68 53 10</p>
              <p>Mobile : <a href="tel:0612345678">06 12 34 56 78</a></p>
            </div>
            <div class="member">
              <h3>Marc Leroy</h3>
              <p>marc.leroy [at] acme [dot] fr</p>
              <p>Tél. 01 42 68 53 00</p>
            </div>
          </div>
        </main>
        <footer><p>Acme SAS, 12 rue de Rivoli, Paris</p><p>Standard : 01 42 68 53 00</p><p>info@acme.fr</p></footer>
        </body></html>
        """;

    [Fact]
    public async Task A_persons_card_gives_their_address_and_numbers_and_the_switchboard_is_nobodys()
    {
        var site = await SiteAsync("acme.fr", FrenchTeam);

        Assert.Equal(["jeanne.dupont@acme.fr"], WebsiteSource.EmailsOf(site, Person("Jeanne", "Dupont", "acme.fr")));
        Assert.Equal(
            [new SitePhone("+33142685310", "FR"), new SitePhone("+33612345678", "FR")],
            WebsiteSource.PhonesOf(site, Person("Jeanne", "Dupont", "acme.fr")).OrderBy(p => p.E164));
        // Marc's card shows the switchboard (also in the header and footer): it is never his.
        Assert.Equal(["marc.leroy@acme.fr"], WebsiteSource.EmailsOf(site, Person("Marc", "Leroy", "acme.fr")));
        Assert.Empty(WebsiteSource.PhonesOf(site, Person("Marc", "Leroy", "acme.fr")));
        Assert.Equal(["+33142685300"], site.Switchboard);
        // Somebody the site does not name gets nothing, not the company's info@ nor its numbers.
        Assert.Empty(WebsiteSource.EmailsOf(site, Person("Paul", "Martin", "acme.fr")));
        Assert.Empty(WebsiteSource.PhonesOf(site, Person("Paul", "Martin", "acme.fr")));
    }

    [Fact]
    public async Task Personal_looking_addresses_are_those_built_from_a_name_on_the_page_and_role_addresses_are_nobodys()
    {
        var site = await SiteAsync("acme.fr", FrenchTeam);

        Assert.Equal(
            [new PersonalAddress("jeanne.dupont@acme.fr", "Jeanne", "Dupont"), new PersonalAddress("marc.leroy@acme.fr", "Marc", "Leroy")],
            site.PersonalAddresses);
    }

    [Fact]
    public async Task A_number_labelled_as_the_switchboard_inside_a_card_is_still_the_switchboard()
    {
        var site = await SiteAsync("acme.de", """
            <html><body><ul>
              <li><strong>Hans Müller</strong>, Vertrieb, Zentrale: 030 123456, Mobil: 01512 3456789</li>
            </ul></body></html>
            """);

        Assert.Equal([new SitePhone("+4915123456789", "DE")], WebsiteSource.PhonesOf(site, Person("Hans", "Müller", "acme.de")));
        Assert.Equal(["+4930123456"], site.Switchboard);
    }

    [Fact]
    public async Task The_same_number_on_two_peoples_cards_is_the_companys()
    {
        var site = await SiteAsync("acme.co.uk", """
            <html><body>
              <div class="card"><h4>Alice Smith</h4><p>0121 234 5678</p></div>
              <div class="card"><h4>Bob Jones</h4><p>0121 234 5678</p><p>07400 123456</p></div>
            </body></html>
            """);

        Assert.Empty(WebsiteSource.PhonesOf(site, Person("Alice", "Smith", "acme.co.uk")));
        Assert.Equal([new SitePhone("+447400123456", "GB")], WebsiteSource.PhonesOf(site, Person("Bob", "Jones", "acme.co.uk")));
    }

    [Theory]
    [InlineData("acme.fr", "<p>Jeanne Dupont — tél. 01 23 45 67 89</p>", "+33123456789", "FR")]
    [InlineData("acme.fr", "<p>Jeanne Dupont — portable 06 12 34 56 78</p>", "+33612345678", "FR")]
    [InlineData("acme.de", "<p>Jeanne Dupont, Telefon 030 123456</p>", "+4930123456", "DE")]
    [InlineData("acme.de", "<p>Jeanne Dupont, Mobil 01512 3456789</p>", "+4915123456789", "DE")]
    [InlineData("acme.co.uk", "<p>Jeanne Dupont, tel. 0121 234 5678</p>", "+441212345678", "GB")]
    [InlineData("acme.co.uk", "<p>Jeanne Dupont, mobile <a href=\"tel:07400123456\">07400 123456</a></p>", "+447400123456", "GB")]
    // A number written with its country code keeps it, whatever the site's country.
    [InlineData("acme.fr", "<p>Jeanne Dupont, London office +44 121 234 5678</p>", "+441212345678", "GB")]
    public async Task National_numbers_take_the_region_of_the_sites_country_code_domain(string domain, string html, string e164, string region)
    {
        var site = await SiteAsync(domain, $"<html><body>{html}</body></html>");

        Assert.Equal([new SitePhone(e164, region)], WebsiteSource.PhonesOf(site, Person("Jeanne", "Dupont", domain)));
    }

    [Theory]
    [InlineData("<html lang=\"de-AT\"><body><p>Jeanne Dupont, 01 5123456</p></body></html>", "+4315123456", "AT")]
    [InlineData("<html><head><meta property=\"og:locale\" content=\"fr_FR\"></head><body><p>Jeanne Dupont, 01 23 45 67 89</p></body></html>", "+33123456789", "FR")]
    [InlineData("<html><body><footer>+44 121 234 5679</footer><p>Jeanne Dupont, 07400 123456</p></body></html>", "+447400123456", "GB")]
    public async Task On_a_generic_domain_national_numbers_take_the_region_the_page_hints_at(string html, string e164, string region)
    {
        var site = await SiteAsync("acme.com", html);

        Assert.Equal([new SitePhone(e164, region)], WebsiteSource.PhonesOf(site, Person("Jeanne", "Dupont", "acme.com")));
    }

    [Theory]
    [InlineData("acme.com")]
    [InlineData("acme.io")] // a vanity TLD is no country (the British Indian Ocean Territory)
    [InlineData("acme.test")]
    public async Task On_a_generic_domain_with_no_hint_national_numbers_are_read_as_american(string domain)
    {
        var site = await SiteAsync(domain, "<html><body><p>Jeanne Dupont, (415) 555-0142</p><p>Paul Martin, 06 12 34 56 78</p></body></html>");

        Assert.Equal([new SitePhone("+14155550142", "US")], WebsiteSource.PhonesOf(site, Person("Jeanne", "Dupont", domain)));
        Assert.Empty(WebsiteSource.PhonesOf(site, Person("Paul", "Martin", domain))); // a French national number is no US number
    }

    [Fact]
    public async Task Invalid_numbers_and_national_numbers_with_no_region_to_read_them_in_are_dropped()
    {
        var invalid = await SiteAsync("acme.fr", """
            <html><body>
              <p>Jeanne Dupont: 06 12 34, <a href="tel:+33123">call</a>, fax +33 1 23, 2024-2025, 75001 Paris</p>
            </body></html>
            """);
        // .eu is no country of libphonenumber's, and the page gives no hint.
        var noRegion = await SiteAsync("acme.eu", "<html><body><p>Jeanne Dupont: 06 12 34 56 78</p></body></html>");

        Assert.Empty(WebsiteSource.PhonesOf(invalid, Person("Jeanne", "Dupont", "acme.fr")));
        Assert.Empty(invalid.Blocks.SelectMany(b => b.Phones));
        Assert.Empty(WebsiteSource.PhonesOf(noRegion, Person("Jeanne", "Dupont", "acme.eu")));
    }

    [Theory]
    [InlineData("<li>Jane Doe: jane.doe@acme.com</li>")]
    [InlineData("<li>Jane Doe: <a href=\"mailto:Jane.Doe@acme.com?subject=Hello\">write to Jane</a></li>")]
    [InlineData("<li>Jane Doe: jane.doe [at] acme [dot] com</li>")]
    [InlineData("<li>Jane Doe: jane.doe(at)acme(dot)com</li>")]
    [InlineData("<li>Jane Doe: jane.doe AT acme DOT com</li>")]
    [InlineData("<li>Jane Doe: jane.doe{at}acme.com</li>")]
    [InlineData("<li>Jane Doe: <span class=\"__cf_email__\" data-cfemail=\"{cf}\">[email&#160;protected]</span></li>")]
    [InlineData("<li>Jane Doe: <a href=\"/cdn-cgi/l/email-protection#{cf}\">[email&#160;protected]</a></li>")]
    public async Task Addresses_are_read_however_the_page_hides_them(string item)
    {
        var site = await SiteAsync("acme.com", $"<html><body><ul>{item.Replace("{cf}", Cloudflare("jane.doe@acme.com", 0x5a), StringComparison.Ordinal)}</ul></body></html>");

        Assert.Equal(["jane.doe@acme.com"], WebsiteSource.EmailsOf(site, Person("Jane", "Doe", "acme.com")));
    }

    [Fact]
    public async Task An_address_beside_a_name_is_that_persons_even_when_it_is_not_built_from_it_but_never_someone_elses()
    {
        var site = await SiteAsync("acme.com", """
            <html><body><table>
              <tr><td>Jane Doe</td><td>CEO</td><td>jd42@acme.com</td></tr>
              <tr><td>John Smith</td><td>CTO</td><td>john.smith@acme.com</td></tr>
              <tr><td>Ann Lee</td><td>john.smith@acme.com</td></tr>
              <tr><td>Bob Ray</td><td>info@acme.com</td></tr>
            </table></body></html>
            """);

        Assert.Equal(["jd42@acme.com"], WebsiteSource.EmailsOf(site, Person("Jane", "Doe", "acme.com")));
        Assert.Equal(["john.smith@acme.com"], WebsiteSource.EmailsOf(site, Person("John", "Smith", "acme.com")));
        Assert.Empty(WebsiteSource.EmailsOf(site, Person("Ann", "Lee", "acme.com"))); // John's address, not hers
        Assert.Empty(WebsiteSource.EmailsOf(site, Person("Bob", "Ray", "acme.com"))); // a role address is nobody's
        Assert.Empty(WebsiteSource.EmailsOf(site, Person("John", "Smith", "other.com"))); // only the domain's own addresses count
    }

    [Fact]
    public async Task Names_are_matched_regardless_of_case_accents_and_order()
    {
        var site = await SiteAsync("acme.de", "<html><body><p>MÜLLER, Hans — hans.mueller@acme.de — +49 30 123456</p></body></html>");

        Assert.Equal(["hans.mueller@acme.de"], WebsiteSource.EmailsOf(site, Person("hans", "muller", "acme.de")));
        Assert.Equal([new SitePhone("+4930123456", "DE")], WebsiteSource.PhonesOf(site, Person("Hans", "Müller", "acme.de")));
    }

    [Fact]
    public async Task Links_to_likely_pages_come_first_then_the_well_known_paths_and_never_other_sites()
    {
        var home = new Uri("https://acme.com:8443/");
        var page = await PageReader.ReadHtmlAsync("""
            <html><body><nav>
              <a href="/products">Products</a>
              <a href="/ueber-uns/">Über uns</a>
              <a href="https://www.acme.com/unsere-leute">Team</a>
              <a href="https://evil.com/contact">Contact</a>
              <a href="mailto:info@acme.com">Mail</a>
              <a href="/brochure.pdf">Contact sheet</a>
              <a href="/kontakt#form">Kontakt</a>
            </nav></body></html>
            """, home, "acme.com", CancellationToken.None);

        var pages = LikelyPages.After(home, page.Links, new SiteScope("acme.com", 8080, 8443)).Select(u => u.ToString()).ToList();

        Assert.Equal(["https://acme.com:8443/kontakt", "https://www.acme.com/unsere-leute", "https://acme.com:8443/ueber-uns/"], pages.Take(3));
        Assert.Equal("https://acme.com:8443/contact", pages[3]);
        Assert.DoesNotContain(pages, p => p.Contains("evil", StringComparison.Ordinal) || p.Contains("products", StringComparison.Ordinal) || p.EndsWith(".pdf", StringComparison.Ordinal));
        Assert.Single(pages, p => p.EndsWith("/kontakt", StringComparison.Ordinal)); // the well-known /kontakt is the link already taken
    }

    [Fact]
    public async Task A_plain_text_page_is_read_paragraph_by_paragraph()
    {
        var page = await PageReader.ReadPlainTextAsync(
            "Jane Doe\njane.doe@acme.fr\n06 12 34 56 78\n\nSwitchboard 01 23 45 67 89\n", new Uri("https://acme.fr/contact.txt"), "acme.fr", CancellationToken.None);
        var site = SiteCrawler.Combine([page]);

        Assert.Equal(["jane.doe@acme.fr"], WebsiteSource.EmailsOf(site, Person("Jane", "Doe", "acme.fr")));
        Assert.Equal([new SitePhone("+33612345678", "FR")], WebsiteSource.PhonesOf(site, Person("Jane", "Doe", "acme.fr")));
    }

    [Fact]
    public async Task Parsing_a_hostile_page_stops_when_its_time_is_up()
    {
        // 200,000 nested divs: about 1 MiB, and many minutes of parsing (the parser is quadratic in depth).
        var html = "<html><body>" + string.Concat(Enumerable.Repeat("<div>", 200_000)) + "<p>Jane Doe jane.doe@acme.com</p></body></html>";
        using var timeUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PageReader.ReadHtmlAsync(html, new Uri("https://acme.com/"), "acme.com", timeUp.Token));
    }

    [Fact]
    public async Task An_address_deep_inside_nested_sections_belongs_to_the_paragraph_around_it()
    {
        var html = "<html><body>" + string.Concat(Enumerable.Repeat("<section>", 3_000)) + "<p>Jane Doe jane.doe@acme.com</p></body></html>";

        var site = SiteCrawler.Combine([await PageReader.ReadHtmlAsync(html, new Uri("https://acme.com/"), "acme.com", CancellationToken.None)]);

        Assert.Equal(["jane.doe@acme.com"], WebsiteSource.EmailsOf(site, Person("Jane", "Doe", "acme.com")));
    }

    [Fact]
    public void Mobile_numbers_come_before_fixed_lines_whichever_source_gave_them()
    {
        var outcome = Verdict.Decide([],
        [
            new PhoneEvidence("+33142685310", "FR", "website"),
            new PhoneEvidence("+12025550143", "US", "directory"),
            new PhoneEvidence("+33612345678", "FR", "website"),
        ]);

        // FR mobile, then a US number (fixed line or mobile: the plan does not say), then the FR fixed line.
        Assert.Equal(["+33612345678", "+12025550143", "+33142685310"], outcome.Phones.Select(p => p.Number));
    }

    private static async Task<SiteFindings> SiteAsync(string domain, params string[] pages)
    {
        var read = new List<PageContent>();
        foreach (var html in pages)
        {
            read.Add(await PageReader.ReadHtmlAsync(html, new Uri($"https://{domain}/"), domain, CancellationToken.None));
        }

        return SiteCrawler.Combine(read);
    }

    private static Person Person(string first, string last, string domain) => new(first, last, domain, null, null);

    /// <summary>Cloudflare's email protection: a key byte, then each byte of the address XOR the key, in hex.</summary>
    internal static string Cloudflare(string address, byte key) =>
        key.ToString("x2") + string.Concat(address.Select(c => ((byte)(c ^ key)).ToString("x2")));
}
