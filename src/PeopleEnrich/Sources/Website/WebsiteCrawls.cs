using System.Collections.Concurrent;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// One crawl per domain: a fresh stored crawl is reused; otherwise the workers of this process that
/// ask for the same domain at once share one crawl. A crawl is not tied to the person who started it:
/// if that person's source time-out passes, the crawl goes on (within its own budget) for the next.
/// A crawl no server answered is not kept: the next person's asks again.
/// </summary>
public sealed class WebsiteCrawls(SiteCrawler crawler, WebsiteStore store, DomainKnowledge knowledge, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<SiteFindings?>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>The site's findings; null when no server answered for it this time.</summary>
    public async Task<SiteFindings?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        if (await store.GetFreshAsync(domain, cancellationToken) is { } known)
        {
            return known;
        }

        var flight = _inFlight.GetOrAdd(domain, d => new Lazy<Task<SiteFindings?>>(() => CrawlAsync(d)));
        var crawl = flight.Value;
        _ = crawl.ContinueWith(
            done =>
            {
                _ = done.Exception; // observed here too: every waiter may have given up by the time a crawl fails
                _inFlight.TryRemove(KeyValuePair.Create(domain, flight));
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await crawl.WaitAsync(cancellationToken);
    }

    private async Task<SiteFindings?> CrawlAsync(string domain)
    {
        var stopping = lifetime.ApplicationStopping;
        // A crawl that finished between our look and joining the flight.
        if (await store.GetFreshAsync(domain, stopping) is { } known)
        {
            return known;
        }

        var crawl = await crawler.CrawlAsync(domain, stopping);
        if (!crawl.Answered)
        {
            return null;
        }

        await LearnPatternsAsync(domain, crawl.Findings, stopping);
        return await store.SaveAsync(domain, crawl, stopping);
    }

    /// <summary>Each personal address published on the site is independent evidence of the domain's pattern.</summary>
    private async Task LearnPatternsAsync(string domain, SiteFindings findings, CancellationToken cancellationToken)
    {
        foreach (var address in findings.PersonalAddresses)
        {
            var local = address.Address[..address.Address.LastIndexOf('@')];
            var patterns = AddressPatterns.Detect(local, PersonNames.Parse(address.FirstName, address.LastName));
            await knowledge.RecordAddressAsync(domain, local, patterns, fromDirectory: false, cancellationToken);
        }
    }
}
