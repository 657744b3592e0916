using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.Website;

/// <summary>The crawler's one HTTP client, on a guarded handler: every connection checked by the network guard, through the operator's SOCKS5 proxy when one is set.</summary>
public sealed class CrawlerHttp : IDisposable
{
    public CrawlerHttp(GuardedHttp guarded, IOptions<CrawlerOptions> options, IOptions<SmtpOptions> smtp)
    {
        var settings = options.Value;
        // Each request has its own time-out (CrawlerOptions.Timeout), covering its body too.
        Client = new HttpClient(guarded.CreateHandler(new GuardedHttpSettings(settings.Timeout, smtp.Value.Proxy, settings.TrustedCertificate)))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public HttpClient Client { get; }

    public void Dispose() => Client.Dispose();
}
