using Microsoft.Extensions.Options;
using PeopleEnrich.Normalisation;

namespace PeopleEnrich.Sources.Website;

/// <summary>One crawl's result: what was found, and how many pages were read.</summary>
public sealed record SiteCrawl(SiteFindings Findings, int PagesFetched)
{
    /// <summary>No server answered for the site this time (down, refusing, failing): nothing true can be said, or kept, of it.</summary>
    public static SiteCrawl Unanswered { get; } = new(SiteFindings.Nothing, 0) { Answered = false };

    public bool Answered { get; init; } = true;
}

/// <summary>
/// Crawls one company's site: the home page (https first, then http; the bare domain, then www.), then
/// the likely pages, within the page budget and the crawl's time budget. What was read before the
/// time budget ran out is kept. A site whose names have no address has no website; one where no server
/// answered (time-outs, refused connections, server errors) is <see cref="SiteCrawl.Unanswered"/>.
/// </summary>
public sealed class SiteCrawler(CrawlerHttp http, IOptions<CrawlerOptions> options, ILogger<SiteCrawler> logger)
{
    private const int MaxBlocks = 1000;

    public async Task<SiteCrawl> CrawlAsync(string domain, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var scope = new SiteScope(domain, settings.HttpPort, settings.HttpsPort);
        var session = new CrawlSession(http.Client, settings, scope, logger);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(settings.CrawlTimeout);
        var pages = new List<PageContent>();
        Uri? root = null;
        try
        {
            (var home, root, var lasting) = await HomeAsync(session, scope, budget.Token);
            if (root is null && lasting)
            {
                logger.LogInformation("{Domain} has no website: its names have no address we may connect to", domain);
                return new SiteCrawl(SiteFindings.Nothing, 0);
            }

            if (root is null)
            {
                logger.LogInformation("No website answers for {Domain} now", domain);
                return SiteCrawl.Unanswered;
            }

            var homeContent = home is null ? null : await ReadAsync(home, domain, budget.Token);
            if (homeContent is not null)
            {
                pages.Add(homeContent);
            }

            foreach (var url in LikelyPages.After(home?.Url ?? root, homeContent?.Links ?? [], scope))
            {
                if (!session.HasBudget)
                {
                    break;
                }

                if (await FetchOrSkipAsync(session, url, budget.Token) is FetchOutcome.Page page && await ReadAsync(page, domain, budget.Token) is { } content)
                {
                    pages.Add(content);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && root is null)
        {
            logger.LogInformation("No website answered for {Domain} within the crawl's {Budget} budget", domain, settings.CrawlTimeout);
            return SiteCrawl.Unanswered;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("The crawl of {Domain} ran out of its {Budget} budget; keeping the {Pages} pages read", domain, settings.CrawlTimeout, pages.Count);
        }

        logger.LogInformation("Crawled {Domain}: {Pages} pages read in {Requests} requests", domain, pages.Count, session.PageRequests);
        return new SiteCrawl(Combine(pages), pages.Count);
    }

    /// <summary>A page after the home page: DNS failing for it (a subdomain's, say) costs that page, not the pages already read.</summary>
    private async Task<FetchOutcome> FetchOrSkipAsync(CrawlSession session, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            return await session.FetchPageAsync(url, cancellationToken);
        }
        catch (SiteUnresolvedException exception)
        {
            logger.LogInformation("Skipped {Url}: {Why}", url, exception.Message);
            return new FetchOutcome.Unreachable(exception.Message);
        }
    }

    /// <summary>
    /// The home page, and the root it was found at; the root alone when a server answered there with no
    /// page; neither when none answered, and then whether that lasts (no name had an address to connect to).
    /// </summary>
    private static async Task<(FetchOutcome.Page? Home, Uri? Root, bool Lasting)> HomeAsync(CrawlSession session, SiteScope scope, CancellationToken cancellationToken)
    {
        var lasting = true;
        foreach (var host in new[] { scope.Domain, "www." + scope.Domain })
        {
            foreach (var scheme in new[] { "https", "http" })
            {
                var root = scope.Root(scheme, host);
                switch (await session.FetchPageAsync(root, cancellationToken))
                {
                    case FetchOutcome.Page page:
                        return (page, root, true);
                    case FetchOutcome.NoPage or FetchOutcome.NotAsked:
                        return (null, root, true);
                    case FetchOutcome.Unreachable unreachable:
                        lasting &= unreachable.Lasting;
                        break;
                }
            }
        }

        return (null, null, lasting);
    }

    /// <summary>The page's content; null when parsing it took longer than a request may (a hostile page), which costs that page only.</summary>
    private async Task<PageContent?> ReadAsync(FetchOutcome.Page page, string domain, CancellationToken cancellationToken)
    {
        using var parsing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        parsing.CancelAfter(options.Value.Timeout);
        try
        {
            var content = page.IsHtml
                ? await PageReader.ReadHtmlAsync(page.Text, page.Url, domain, parsing.Token)
                : await PageReader.ReadPlainTextAsync(page.Text, page.Url, domain, parsing.Token);
            // Each finding names its page: the evidence of what is later returned from it.
            var url = page.Url.ToString();
            return content with
            {
                Blocks = content.Blocks.Select(b => b with { Url = url }).ToList(),
                PersonalAddresses = content.PersonalAddresses.Select(a => a with { Url = url }).ToList(),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Gave up reading {Url}: parsing it took longer than {Timeout}", page.Url, options.Value.Timeout);
            return null;
        }
    }

    /// <summary>
    /// The pages' findings together. A number is the switchboard when it appears anywhere beside no
    /// person (a company block), or beside different people with no name in common.
    /// </summary>
    public static SiteFindings Combine(IReadOnlyList<PageContent> pages)
    {
        var blocks = pages.SelectMany(p => p.Blocks).Take(MaxBlocks).ToList();
        var switchboard = blocks
            .SelectMany(block => block.Phones.Select(phone => (phone.E164, Block: block)))
            .GroupBy(o => o.E164)
            .Where(occurrences => occurrences.Any(o => o.Block.Company)
                                  || occurrences.Select(o => o.Block.Names.Select(MatchKeys.Name)).Aggregate((a, b) => a.Intersect(b)).Any() is false)
            .Select(occurrences => occurrences.Key)
            .ToList();
        var addresses = pages.SelectMany(p => p.PersonalAddresses).DistinctBy(a => a.Address).ToList();
        return new SiteFindings(blocks, addresses, switchboard);
    }
}
