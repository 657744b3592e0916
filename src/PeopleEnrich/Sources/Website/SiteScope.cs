using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// Which URLs belong to a company's site: the domain itself, www. and any other subdomain of it, and
/// nothing else. Since the scope is the domain asked for, never a guess at its registrable part, a
/// redirect from acme.co.uk can reach shop.acme.co.uk but never other.co.uk.
/// </summary>
public sealed class SiteScope(string domain, int httpPort, int httpsPort)
{
    public string Domain { get; } = domain;

    /// <summary>A company's domain, not a reserved, free-mail or disposable one, nor a public suffix (co.uk) that would put every company under it in scope.</summary>
    public static bool IsCrawlable(string domain)
    {
        if (ReservedDomains.NeverContact(domain) || FreeMailDomains.Contains(domain) || FreeMailDomains.IsDisposable(domain))
        {
            return false;
        }

        return !PublicSuffixes.IsPublicSuffix(domain);
    }

    /// <summary>
    /// On the site's hosts and at the configured port of its scheme: a page naming another port
    /// (http://www.acme.com:25/) would have us send requests to whatever listens there.
    /// </summary>
    public bool Contains(Uri url) =>
        url.Scheme is "http" or "https"
        && (url.IdnHost.Equals(Domain, StringComparison.OrdinalIgnoreCase) || url.IdnHost.EndsWith("." + Domain, StringComparison.OrdinalIgnoreCase))
        && WithPort(url).Port == PortOf(url.Scheme);

    /// <summary>The site's root on one host and scheme ("https://www.acme.com:8443/" when the https port is 8443).</summary>
    public Uri Root(string scheme, string host) => WithPort(new Uri($"{scheme}://{host}/"));

    /// <summary>An URL that names no port gets the configured one of its scheme (they differ from 80 and 443 only in tests).</summary>
    public Uri WithPort(Uri url)
    {
        if (!url.IsDefaultPort)
        {
            return url;
        }

        return new UriBuilder(url) { Port = PortOf(url.Scheme) }.Uri;
    }

    private int PortOf(string scheme) => scheme == "https" ? httpsPort : httpPort;
}
