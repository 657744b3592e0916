using System.Net;

namespace PeopleEnrich.MailWorld;

/// <summary>A website of the world: served at its domain and www.domain, at one address, over the schemes it answers.</summary>
public sealed class Website
{
    private const string RobotsPath = "/robots.txt";
    private readonly PageDescription[] _pages;

    internal Website(string domain, IPAddress address, bool listening, WebsiteDescription description)
    {
        Domain = domain;
        HostNames = [domain, "www." + domain];
        Address = address;
        Listening = listening;
        Description = description;
        _pages = description.RobotsTxt is { } robots
            ? [.. description.Pages, new PageDescription { Path = RobotsPath, ContentType = "text/plain; charset=utf-8", Body = robots }]
            : [.. description.Pages];
    }

    /// <summary>The domain, lower case, without a trailing dot.</summary>
    public string Domain { get; }

    /// <summary>The names that resolve to the site: the domain and www.domain.</summary>
    public IReadOnlyList<string> HostNames { get; }

    /// <summary>What DNS answers for the site's names: its own 127.0.0.x, the implicit MX's, or the description's address.</summary>
    public IPAddress Address { get; }

    /// <summary>False when the address is not ours to bind (the description's address, or an MX at mx_address): nothing listens.</summary>
    public bool Listening { get; }

    public WebsiteDescription Description { get; }

    /// <summary>Where the site answers HTTP; null when it does not (not listening, or <c>http: false</c>).</summary>
    public IPEndPoint? HttpEndPoint { get; internal set; }

    /// <summary>Where the site answers HTTPS; null when it does not.</summary>
    public IPEndPoint? HttpsEndPoint { get; internal set; }

    /// <summary>
    /// The page answering a request, or null (404). A page whose path has a query answers only that exact target;
    /// one without answers its path whatever the query, unless an exact one matches first. Paths are case-sensitive.
    /// </summary>
    internal PageDescription? Find(bool https, string path, string query)
    {
        PageDescription? byPath = null;
        var target = path + query;
        foreach (var page in _pages)
        {
            if (!Serves(page, https)) continue;
            if (page.Path == target) return page;
            if (byPath is null && !page.Path.Contains('?') && page.Path == path) byPath = page;
        }
        return byPath;
    }

    internal bool Serves(PageDescription page, bool https) =>
        https ? Description.Https && page.Https != false : Description.Http && page.Http != false;

    /// <summary>Every description mistake of the site, for <see cref="MailWorld"/> to refuse it before anything starts.</summary>
    internal static IEnumerable<string> Problems(WebsiteDescription site)
    {
        if (site.Address is not null && !IPAddress.TryParse(site.Address, out _))
            yield return $"address '{site.Address}' is not an IP address";
        if (!site.Http && !site.Https) yield return "a website must answer http or https";
        foreach (var page in site.Pages)
        {
            if (string.IsNullOrEmpty(page.Path) || page.Path[0] != '/') yield return $"page path '{page.Path}' must start with '/'";
            if (page.Status is < 100 or > 999) yield return $"page '{page.Path}': status {page.Status} is not an HTTP status";
            if (page.Body is not null && page.BodyBytes is not null) yield return $"page '{page.Path}': body and body_bytes exclude each other";
            if (page.BodyBytes is < 0) yield return $"page '{page.Path}': body_bytes must not be negative";
            if (page.Http == true && !site.Http) yield return $"page '{page.Path}': http true, but the site does not answer http";
            if (page.Https == true && !site.Https) yield return $"page '{page.Path}': https true, but the site does not answer https";
            if (page.Http == false && page.Https == false) yield return $"page '{page.Path}': served on no scheme";
        }
        if (site.RobotsTxt is not null && site.Pages.Any(p => p.Path == RobotsPath))
            yield return "robots_txt and a page '/robots.txt' exclude each other";
        foreach (var group in site.Pages.GroupBy(p => p.Path))
        {
            var pages = group.ToList();
            if (pages.Count(p => p.Http != false) > 1 || pages.Count(p => p.Https != false) > 1)
                yield return $"page '{group.Key}' is described twice for one scheme";
        }
    }
}
