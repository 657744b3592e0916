using System.Net;
using System.Text.Json.Nodes;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>GET /api/v2/people/enrich (extension): the caller's requests, newest first, by cursor pages.</summary>
public abstract class RequestListingTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private static readonly string[] SummaryKeys = ["created_at", "done_count", "item_count", "request_id", "status"];

    private TestApp App => fixture.App;

    [Fact]
    public async Task Pages_walk_every_request_of_the_caller_newest_first_and_none_of_another_account()
    {
        var account = await App.CreateAccountAsync();
        var other = await App.CreateAccountAsync();
        var submitted = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            submitted.Add(await account.SubmitAcceptedAsync(Bodies.Batch(i)));
        }

        var foreign = await other.SubmitAcceptedAsync(Bodies.Batch(1));

        var all = await ListAsync(account, "?limit=100");
        Assert.Null(all["next_cursor"]);
        var everything = Summaries(all);
        Assert.Equal(submitted.Order(), everything.Select(s => s["request_id"]!.GetValue<string>()).Order());
        Assert.DoesNotContain(foreign, everything.Select(s => s["request_id"]!.GetValue<string>()));
        var created = everything.Select(s => s["created_at"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(created.OrderDescending(), created);
        foreach (var summary in everything)
        {
            Assert.Equal(SummaryKeys, summary.Select(p => p.Key).Order());
            var id = summary["request_id"]!.GetValue<string>();
            Assert.Equal(submitted.IndexOf(id) + 1, summary["item_count"]!.GetValue<long>());
        }

        // Pages of two: the same requests in the same order, the last page without a cursor.
        var paged = new List<string>();
        var query = "?limit=2";
        var pages = 0;
        while (true)
        {
            var page = await ListAsync(account, query);
            pages++;
            var ids = Summaries(page).Select(s => s["request_id"]!.GetValue<string>()).ToList();
            Assert.InRange(ids.Count, 1, 2);
            paged.AddRange(ids);
            if (page["next_cursor"] is not { } cursor)
            {
                break;
            }

            query = $"?limit=2&cursor={Uri.EscapeDataString(cursor.GetValue<string>())}";
        }

        Assert.Equal(3, pages);
        Assert.Equal(everything.Select(s => s["request_id"]!.GetValue<string>()), paged);

        // The other account sees only its own.
        var theirs = Assert.Single(Summaries(await ListAsync(other, "")));
        Assert.Equal(foreign, theirs["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Progress_shows_items_done_once_the_request_completes()
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(3));
        var done = await account.WaitForCompletionAsync(id);

        var summary = Assert.Single(Summaries(await ListAsync(account, "")));
        Assert.Equal(done["status"]!.GetValue<string>(), summary["status"]!.GetValue<string>());
        Assert.Equal(3, summary["item_count"]!.GetValue<long>());
        Assert.Equal(3, summary["done_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_new_account_has_an_empty_list()
    {
        var account = await App.CreateAccountAsync();
        var list = await ListAsync(account, "");
        Assert.Empty(Summaries(list));
        Assert.Null(list["next_cursor"]);
    }

    [Theory]
    [InlineData("?limit=0", "query.limit")]
    [InlineData("?limit=101", "query.limit")]
    [InlineData("?limit=ten", "query.limit")]
    [InlineData("?limit=-1", "query.limit")]
    [InlineData("?limit=5&limit=6", "query.limit")]
    [InlineData("?cursor=", "query.cursor")]
    [InlineData("?cursor=not-a-cursor", "query.cursor")]
    [InlineData("?cursor=MTIzLm5vdC1hLWd1aWQ", "query.cursor")]
    public async Task A_bad_limit_or_cursor_is_refused_naming_the_parameter(string query, string location)
    {
        var account = await App.CreateAccountAsync();
        using var response = await account.Http.GetAsync(EnrichPath + query);
        await response.AssertUnprocessableAtAsync(location);
    }

    [Fact]
    public async Task Without_a_key_the_list_is_unauthorized()
    {
        using var response = await App.Client().GetAsync(EnrichPath);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task<JsonObject> ListAsync(TestAccount account, string query)
    {
        using var response = await account.Http.GetAsync(EnrichPath + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {query}: {(int)response.StatusCode} {text}");
        return Assert.IsType<JsonObject>(JsonNode.Parse(text));
    }

    private static List<JsonObject> Summaries(JsonObject list) =>
        list["requests"]!.AsArray().Select(r => Assert.IsType<JsonObject>(r)).ToList();
}

public sealed class SqliteRequestListingTests(AppFixture<Sqlite> fixture) : RequestListingTests<Sqlite>(fixture);

public sealed class PostgresRequestListingTests(AppFixture<Postgres> fixture) : RequestListingTests<Postgres>(fixture);
