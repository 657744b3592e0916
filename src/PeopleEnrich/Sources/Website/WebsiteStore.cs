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
        var findings = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT findings FROM website_crawls WHERE domain = @domain AND crawled_at >= @fresh",
            new { domain, fresh = Now - (long)options.Value.Ttl.TotalMilliseconds }, cancellationToken: cancellationToken));
        return findings is null ? null : JsonSerializer.Deserialize(findings, WebsiteJsonContext.Default.SiteFindings);
    }

    public Task SaveAsync(string domain, SiteCrawl crawl, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO website_crawls (domain, crawled_at, pages_fetched, findings) VALUES (@domain, @now, @pages, @findings)
            ON CONFLICT (domain) DO UPDATE SET crawled_at = excluded.crawled_at, pages_fetched = excluded.pages_fetched, findings = excluded.findings
            """, new { domain, now = Now, pages = crawl.PagesFetched, findings = JsonSerializer.Serialize(crawl.Findings, WebsiteJsonContext.Default.SiteFindings) },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
}
