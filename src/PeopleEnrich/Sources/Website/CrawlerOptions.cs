using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PeopleEnrich.Sources.Website;

/// <summary>The website crawler (section <c>Crawler</c>).</summary>
public sealed class CrawlerOptions
{
    public const string DefaultUserAgent = "PeopleEnrichBot/1.0 (+https://github.com/peopleenrich)";

    public bool Enabled { get; set; } = true;

    /// <summary>Page requests per crawl of one domain, at most (redirect hops included; robots.txt not).</summary>
    public int MaxPages { get; set; } = 10;

    /// <summary>Bytes read of one page at most; the rest is never read.</summary>
    public int MaxBytes { get; set; } = 1024 * 1024;

    /// <summary>One request: connecting, the headers and the body.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A whole crawl. What was read by then is kept. Below the waterfall's source time-out, so that the
    /// first person at a domain gets the crawl's answer.
    /// </summary>
    public TimeSpan CrawlTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Sent with every request, and the product token before its '/' is the one robots.txt groups are matched against.</summary>
    public string UserAgent { get; set; } = DefaultUserAgent;

    /// <summary>The port of http:// URLs that name none (tests point it at a simulated world).</summary>
    public int HttpPort { get; set; } = 80;

    /// <summary>The port of https:// URLs that name none.</summary>
    public int HttpsPort { get; set; } = 443;

    /// <summary>An extra certificate (PEM) trusted as a root, for internal sites and tests; the system's roots still apply.</summary>
    public string? TrustedCertificatePem { get; set; }

    /// <summary>"PeopleEnrichBot" of "PeopleEnrichBot/1.0 (+https://…)".</summary>
    public string ProductToken => UserAgent.Split('/', ' ')[0];

    public X509Certificate2? TrustedCertificate =>
        string.IsNullOrWhiteSpace(TrustedCertificatePem) ? null : X509Certificate2.CreateFromPem(TrustedCertificatePem);

    internal static bool IsValid(CrawlerOptions options)
    {
        if (options.MaxPages < 1 || options.MaxBytes < 1024 || options.Timeout <= TimeSpan.Zero || options.CrawlTimeout <= TimeSpan.Zero
            || options.HttpPort is < 1 or > 65535 || options.HttpsPort is < 1 or > 65535 || options.ProductToken.Length == 0)
        {
            return false;
        }

        try
        {
            _ = options.TrustedCertificate;
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
