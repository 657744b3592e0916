using System.Globalization;
using System.Text;

namespace PeopleEnrich.MailWorld;

/// <summary>How a generated team page writes a person's address.</summary>
public enum EmailWriting
{
    /// <summary><c>&lt;a href="mailto:jane.doe@acme.test"&gt;jane.doe@acme.test&lt;/a&gt;</c></summary>
    Mailto,

    /// <summary>Cloudflare's email protection: <c>/cdn-cgi/l/email-protection#HEX</c> and <c>data-cfemail="HEX"</c>, the first byte the XOR key.</summary>
    CloudflareProtected,

    /// <summary><c>jane.doe [at] acme [dot] test</c></summary>
    AtDot,
}

/// <summary>A person on a generated team page: their address as the page gives it (null when it gives none) and their direct line.</summary>
public sealed record ListedPerson(Person Person, string? Email, EmailWriting? Writing, SitePhone Phone);

/// <summary>
/// The ground truth of a generated website. <see cref="Team"/> are the people on the page at <see cref="TeamPath"/>
/// (linked from the home page "/"); <see cref="Switchboard"/> is the company's number, in every page's footer and next
/// to no person; <see cref="ForbiddenPath"/> is disallowed by robots.txt, linked from the home page, and is the only
/// place giving <see cref="ForbiddenPerson"/>'s mobile number <see cref="ForbiddenMobile"/>. Numbers are in the national
/// format of <see cref="Region"/> (the domain's country suffix, else US). When <see cref="HttpRedirectsToHttpsWww"/>,
/// http://domain/ answers 301 to https://www.domain:{https port}/.
/// </summary>
public sealed record GeneratedWebsite(
    string Domain,
    string Region,
    string TeamPath,
    IReadOnlyList<ListedPerson> Team,
    SitePhone Switchboard,
    string ForbiddenPath,
    Person ForbiddenPerson,
    SitePhone ForbiddenMobile,
    bool HttpRedirectsToHttpsWww);

/// <summary>Websites for generated domains: which domains get one, in which country, and their pages.</summary>
internal static class WebsiteGenerator
{
    public const string ForbiddenPath = "/private";

    private static readonly string[] JobTitles =
    [
        "Chief Executive Officer", "Head of Sales", "Marketing Manager", "Chief Technology Officer", "Office Manager",
        "Head of Finance", "Operations Director", "Customer Success Lead", "Product Manager", "HR Business Partner",
    ];

    /// <summary>
    /// The domains (by index) that get a website and their country. A domain of a country with a suffix is renamed
    /// (bluefalcon.test becomes bluefalcon.de) before any address is made from its name; the others keep .test.
    /// </summary>
    public static Dictionary<int, Country> ChooseSites(List<GeneratedDomain> domains, WorldGeneratorOptions options, Random random)
    {
        var sites = new Dictionary<int, Country>();
        for (var i = 0; i < domains.Count; i++)
        {
            if (!domains[i].Exists || random.NextDouble() >= options.WebsiteShare) continue;
            var country = random.NextDouble() < options.CountryDomainShare
                ? Country.WithSuffix[random.Next(Country.WithSuffix.Count)]
                : Country.UnitedStates;
            sites[i] = country;
            if (country.Suffix is { } suffix) domains[i] = domains[i] with { Name = domains[i].Name[..^".test".Length] + suffix };
        }
        var first = domains.FindIndex(d => d.Exists);
        if (sites.Count == 0 && first >= 0) sites[first] = Country.UnitedStates;
        return sites;
    }

    public static (WebsiteDescription Description, GeneratedWebsite Truth) Build(
        GeneratedDomain domain, Country country, IReadOnlyList<Person> people, Random random)
    {
        var company = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(domain.Name[..domain.Name.IndexOf('.')]);
        var numbers = new HashSet<string>();
        SitePhone Unique(Func<Random, SitePhone> make)
        {
            SitePhone phone;
            do phone = make(random);
            while (!numbers.Add(phone.E164));
            return phone;
        }

        var switchboard = Unique(country.Landline);
        var teamPath = country.TeamPaths[random.Next(country.TeamPaths.Count)];
        var listed = people.OrderBy(_ => random.Next()).Take(Math.Min(people.Count, random.Next(2, 7))).ToList();
        var writings = new Queue<EmailWriting>([EmailWriting.CloudflareProtected, EmailWriting.AtDot]);
        var team = listed
            .Select(p => new ListedPerson(p, p.Address, p.Address is null ? null : writings.TryDequeue(out var w) ? w : EmailWriting.Mailto, Unique(country.Landline)))
            .ToList();
        var forbidden = listed[random.Next(listed.Count)];
        var mobile = Unique(country.Mobile);
        var redirects = random.Next(3) == 0;

        var footer = $"<footer><p>{Html(company)} · {Html(country.SwitchboardLabel)}: {Html(switchboard.National)}</p></footer>";
        var home = Page(country, company, company, $"""
            <nav><a href="/">{Html(company)}</a> · <a href="{teamPath}">{Html(country.TeamTitle)}</a> · <a href="{ForbiddenPath}">{Html(country.PrivateTitle)}</a></nav>
            <main><h1>{Html(company)}</h1><p>{Html(company)} has served its customers since {1950 + random.Next(70)}.</p></main>
            {footer}
            """);
        var cards = string.Join("\n", team.Select(t => Card(t, country, random)));
        var teamPage = Page(country, $"{country.TeamTitle} – {company}", company, $"""
            <nav><a href="/">{Html(company)}</a></nav>
            <main><h1>{Html(country.TeamTitle)}</h1>
            <div class="team">
            {cards}
            </div></main>
            {footer}
            <script data-cfasync="false" src="/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js"></script>
            """);
        var privatePage = Page(country, country.PrivateTitle, company, $"""
            <main><h1>{Html(country.PrivateTitle)}</h1>
            <p>{Html(forbidden.FirstName)} {Html(forbidden.LastName)}, {Html(country.MobileLabel)}: {Html(mobile.National)}</p></main>
            """);

        List<PageDescription> pages = redirects
            ?
            [
                new() { Path = "/", Https = false, Status = 301, Location = $"https://www.{domain.Name}:{PortPlaceholders.Https}/", Body = "" },
                new() { Path = "/", Http = false, Body = home },
            ]
            : [new() { Path = "/", Body = home }];
        pages.Add(new() { Path = teamPath, Body = teamPage });
        pages.Add(new() { Path = ForbiddenPath, Body = privatePage });
        var description = new WebsiteDescription { Pages = pages, RobotsTxt = $"User-agent: *\nDisallow: {ForbiddenPath}\n" };
        var truth = new GeneratedWebsite(domain.Name, country.Region, teamPath, team, switchboard, ForbiddenPath, forbidden, mobile, redirects);
        return (description, truth);
    }

    /// <summary>Cloudflare's encoding: a key byte, then each byte of the address XOR the key, all in lower-case hex.</summary>
    public static string CloudflareHex(string address, byte key)
    {
        var hex = new StringBuilder(key.ToString("x2", CultureInfo.InvariantCulture));
        foreach (var b in Encoding.UTF8.GetBytes(address)) hex.Append(((byte)(b ^ key)).ToString("x2", CultureInfo.InvariantCulture));
        return hex.ToString();
    }

    private static string Card(ListedPerson t, Country country, Random random)
    {
        var name = $"{t.Person.FirstName} {t.Person.LastName}";
        var email = t.Email is not { } address ? "" : t.Writing switch
        {
            EmailWriting.CloudflareProtected => CloudflareMarkup(address, (byte)random.Next(1, 256)),
            EmailWriting.AtDot => $"<p class=\"email\">{Html(AtDot(address))}</p>",
            _ => $"<p class=\"email\"><a href=\"mailto:{Html(address)}\">{Html(address)}</a></p>",
        };
        return $"""<div class="card"><h3>{Html(name)}</h3><p class="role">{Html(JobTitles[random.Next(JobTitles.Length)])}</p>{email}<p class="phone">{Html(country.PhoneLabel)}: {Html(t.Phone.National)}</p></div>""";
    }

    private static string CloudflareMarkup(string address, byte key)
    {
        var hex = CloudflareHex(address, key);
        return $"""<p class="email"><a href="/cdn-cgi/l/email-protection#{hex}"><span class="__cf_email__" data-cfemail="{hex}">[email&#160;protected]</span></a></p>""";
    }

    /// <summary>jane.doe@acme.co.uk as "jane.doe [at] acme [dot] co [dot] uk".</summary>
    private static string AtDot(string address)
    {
        var at = address.IndexOf('@');
        return address[..at] + " [at] " + address[(at + 1)..].Replace(".", " [dot] ", StringComparison.Ordinal);
    }

    private static string Page(Country country, string title, string company, string body) => $"""
        <!doctype html>
        <html lang="{country.Language}"><head><meta charset="utf-8"><title>{Html(title)}</title><meta name="author" content="{Html(company)}"></head>
        <body>
        {body}
        </body></html>

        """;

    /// <summary>Escapes what HTML needs escaped, and leaves accents as UTF-8 (WebUtility would write é as &amp;#233;).</summary>
    private static string Html(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
