extern alias SimulatedWorld;

using System.Net;
using Dapper;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Retention;

/// <summary>
/// Personal data kept only as long as the settings say: through the real app against the simulated world, a request
/// and everything learned for it (the address seen at the domain, the crawl, the cached answer) are made old in the
/// database, as if the days had passed; the sweep then deletes them, and keeps the ledger and what is still fresh.
/// </summary>
public abstract class RetentionTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains = [TeamSite.Acme("<a href=\"/team\">Our team</a>", "<ul><li><h3>John Smith</h3><p>Mobile <a href=\"tel:+14153450123\">(415) 345-0123</a></p></li></ul>")],
    };

    private static readonly long Day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    [Fact]
    public async Task What_expired_is_deleted_in_small_transactions_and_the_ledger_and_fresh_requests_stay()
    {
        // The background sweep waits a day: this test runs the sweep itself, after each change it makes.
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?>
        {
            ["Retention:SweepInterval"] = "1.00:00:00",
            ["Retention:RowsPerTransaction"] = "2",
        });
        var account = await app.App.CreateAccountAsync();
        var old = await EnrichedAsync(account, "Jane", "Doe");
        var fresh = await EnrichedAsync(account, "John", "Smith");
        var database = app.App.Service<Database>();
        var sweep = app.App.Service<RetentionSweep>();

        // Nothing has expired yet: a sweep deletes nothing.
        Assert.All((await sweep.SweepAsync(CancellationToken.None)).Values, deleted => Assert.Equal(0, deleted));
        Assert.NotEqual(0, await CountAsync(database, "domain_addresses"));
        Assert.NotEqual(0, await CountAsync(database, "website_crawls"));
        Assert.NotEqual(0, await CountAsync(database, "results_cache"));
        var ledger = await CountAsync(database, "credit_entries");

        // 91 days later for the first request (Retention:Results is 90 days); 8 for what was learned (Knowledge:Ttl,
        // 7 days); 31 for the cached answers (Cache:Ttl, 30 days).
        await AgeAsync(database, "UPDATE items SET completed_at = completed_at - @by WHERE batch_id = @old", 91, old);
        await AgeAsync(database, "UPDATE batches SET created_at = created_at - @by WHERE id = @old", 91, old);
        await AgeAsync(database, "UPDATE domain_addresses SET seen_at = seen_at - @by", 8, old);
        await AgeAsync(database, "UPDATE domain_knowledge SET catch_all_at = catch_all_at - @by, routing_at = routing_at - @by", 8, old);
        await AgeAsync(database, "UPDATE website_crawls SET crawled_at = crawled_at - @by", 8, old);
        await AgeAsync(database, "UPDATE results_cache SET stored_at = stored_at - @by", 31, old);

        // A bounce reported 366 days ago (Bounces:Remember, 365 days) and one reported today.
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await connection.ExecuteAsync("""
                INSERT INTO bounced_addresses (domain, local_part, bounced_at, reply, reported_at)
                VALUES ('gone.test', 'last.year', @old, NULL, @old), ('gone.test', 'today', @now, NULL, @now)
                """, new { old = now - 366 * Day, now });
        }

        var deleted = await sweep.SweepAsync(CancellationToken.None);

        Assert.Equal(1 + 1, deleted["requests and their answers"]); // the batch and its one item, in one of the small transactions
        Assert.True(deleted["addresses seen at domains"] > 0);
        Assert.Equal(1, deleted["website crawls"]);
        Assert.Equal(2, deleted["cached answers"]); // both answers (Retention:RowsPerTransaction=2 at a time)
        Assert.Equal(1, deleted["reported bounces"]);
        Assert.Equal(1, await CountAsync(database, "bounced_addresses", "local_part = 'today'"));
        Assert.Equal(1, await CountAsync(database, "bounced_addresses"));
        Assert.Equal(HttpStatusCode.NotFound, (await account.Http.GetAsync($"/api/v2/people/enrich/{old}")).StatusCode);
        Assert.Equal("COMPLETED", (await account.GetAsync(fresh))["status"]!.GetValue<string>());
        foreach (var table in new[] { "domain_addresses", "domain_knowledge", "website_crawls", "results_cache" })
        {
            Assert.Equal(0, await CountAsync(database, table));
        }

        Assert.Equal(0, await CountAsync(database, "items", "batch_id = @old", old));
        Assert.Equal(ledger, await CountAsync(database, "credit_entries")); // credits stay explained
        Assert.NotEqual(0, await CountAsync(database, "credit_entries", "batch_id = @old", old));
    }

    private static async Task<string> EnrichedAsync(TestAccount account, string first, string last)
    {
        var requestId = await account.SubmitAcceptedAsync(new { requests = new[] { Query(first, last, "acme.test") } });
        var batch = await account.WaitForCompletionAsync(requestId);
        Assert.NotNull(batch["results"]![0]!["most_probable_email"]);
        return requestId;
    }

    private static async Task AgeAsync(Database database, string sql, int days, string old)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        Assert.NotEqual(0, await connection.ExecuteAsync(sql, new { by = days * Day, old }));
    }

    private static async Task<long> CountAsync(Database database, string table, string where = "1 = 1", string? old = null)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE {where}", new { old });
    }
}

public sealed class SqliteRetentionTests : RetentionTests<Sqlite>;

public sealed class PostgresRetentionTests : RetentionTests<Postgres>;
