using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Sources.Website;

/// <summary>Crawls kept with the domain knowledge, and trusted as long as it is (<see cref="KnowledgeOptions.Ttl"/>).</summary>
public sealed class WebsiteStore(Database database, TimeProvider time, IOptions<KnowledgeOptions> options)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<SiteFindings?> GetFreshAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string Findings, long CrawledAt)?>(new CommandDefinition(
            "SELECT findings, crawled_at FROM website_crawls WHERE domain = @domain AND crawled_at >= @fresh",
            new { domain, fresh = Now - (long)options.Value.Ttl.TotalMilliseconds }, cancellationToken: cancellationToken));
        return row is { } found && JsonSerializer.Deserialize(found.Findings, WebsiteJsonContext.Default.SiteFindings) is { } findings
            ? findings with { CrawledAt = DateTimeOffset.FromUnixTimeMilliseconds(found.CrawledAt) }
            : null;
    }

    /// <summary>Keeps the crawl, and gives back its findings with the time they were seen.</summary>
    public async Task<SiteFindings> SaveAsync(string domain, SiteCrawl crawl, CancellationToken cancellationToken)
    {
        var now = Now;
        await database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO website_crawls (domain, crawled_at, pages_fetched, findings) VALUES (@domain, @now, @pages, @findings)
            ON CONFLICT (domain) DO UPDATE SET crawled_at = excluded.crawled_at, pages_fetched = excluded.pages_fetched, findings = excluded.findings
            """, new { domain, now, pages = crawl.PagesFetched, findings = JsonSerializer.Serialize(crawl.Findings, WebsiteJsonContext.Default.SiteFindings) },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
        return crawl.Findings with { CrawledAt = DateTimeOffset.FromUnixTimeMilliseconds(now) };
    }
}
