using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PeopleEnrich.Api;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>GET with "Prefer: wait=N", and the shape of what it answers.</summary>
public abstract class PollingTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private static readonly string[] BatchKeys = ["item_count", "request_id", "results", "status"];
    private static readonly HashSet<string> ResultKeys = ["enrichment_type", "status", "custom", "emails", "most_probable_email", "phones", "error"];

    private TestApp App => fixture.App;

    [Fact]
    public async Task Prefer_wait_answers_the_completed_batch_in_the_submitted_order()
    {
        var unique = Bodies.Unique();
        var domain = $"order{unique}.com";
        var known = Enumerable.Range(0, 4)
            .Select(i => new DirectoryRow($"Person{i}{unique}", $"Known{i}{unique}", domain, $"person{i}.{unique}@{domain}", $"+3361234567{i}"))
            .ToArray();
        await App.ImportDirectoryAsync(known);
        var people = new[]
        {
            Known(known[0], "contact.emails"),
            Known(known[1], "contact.phones", "contact.emails"),
            Known(known[2], "contact.phones"),
            Known(known[3], "contact.emails", "contact.emails", "contact.emails"),
            Bodies.Person("contact.phones", "contact.emails", "contact.phones"),
        };
        var customs = new JsonObject?[]
        {
            new() { ["row"] = "0", ["note"] = "Zoë \"quoted\" <b>&amp;</b> 日本 😀 \\ / ", ["empty"] = "" },
            new() { ["row"] = "1", ["crm id"] = "A-1", ["ROW"] = "upper" },
            null,
            new(),
            new() { ["row"] = "4" },
        };
        for (var i = 0; i < people.Length; i++)
        {
            if (customs[i] is { } custom)
            {
                people[i]["custom"] = custom.DeepClone();
            }
        }

        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(people));

        // One request: the server holds it until the batch leaves PROCESSING.
        var batch = await account.GetAsync(id, waitSeconds: 5);

        Assert.Equal(BatchKeys, batch.AsObject().Select(p => p.Key).Order());
        Assert.Equal(id, batch["request_id"]!.GetValue<string>());
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        Assert.Equal(5, batch["item_count"]!.GetValue<long>());
        var results = batch["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(5, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            Assert.All(results[i].Select(p => p.Key), key => Assert.Contains(key, ResultKeys));
            Assert.Equal("COMPLETED", results[i]["status"]!.GetValue<string>());
            Assert.Null(results[i]["error"]);
            if (customs[i] is null)
            {
                Assert.False(results[i].ContainsKey("custom"), $"result {i} has a custom it was not sent");
            }
            else
            {
                Assert.True(JsonNode.DeepEquals(customs[i], results[i]["custom"]), $"result {i}: sent {customs[i]!.ToJsonString()}, got {results[i]["custom"]?.ToJsonString()}");
            }
        }

        Assert.Equal(
            ["contact.emails", "contact.emails,contact.phones", "contact.phones", "contact.emails", "contact.emails,contact.phones"],
            results.Select(r => r["enrichment_type"]!.GetValue<string>()));

        // Each result is its own person's: emails only where asked, phones only where asked.
        AssertEmails(results[0], known[0].Email!);
        Assert.False(results[0].ContainsKey("phones"));
        AssertEmails(results[1], known[1].Email!);
        AssertPhones(results[1], known[1].Phone!);
        Assert.False(results[2].ContainsKey("emails"));
        Assert.False(results[2].ContainsKey("most_probable_email"));
        AssertPhones(results[2], known[2].Phone!);
        AssertEmails(results[3], known[3].Email!);
        Assert.False(results[3].ContainsKey("phones"));
        // Nothing found is empty lists, a result, not an absence.
        Assert.Empty(results[4]["emails"]!.AsArray());
        Assert.Empty(results[4]["phones"]!.AsArray());
        Assert.False(results[4].ContainsKey("most_probable_email"));
    }

    [Fact]
    public async Task Duplicate_enrich_fields_are_ignored_in_the_price_and_the_type()
    {
        // 11 credits: one email and one phone, whatever the number of times each is asked.
        var account = await App.CreateAccountAsync(credits: 11);

        var id = await account.SubmitAcceptedAsync(Bodies.Batch(Bodies.Person("contact.phones", "contact.emails", "contact.phones", "contact.emails")));
        var batch = await account.WaitForCompletionAsync(id);

        Assert.Equal("contact.emails,contact.phones", batch["results"]![0]!["enrichment_type"]!.GetValue<string>());
        Assert.Equal((0L, 11L, 11L), await account.CreditsAsync());
    }

    [Fact]
    public async Task A_wait_on_a_settled_batch_answers_what_a_plain_GET_answers()
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(3, "contact.emails", "contact.phones"));
        var settled = await account.WaitForCompletionAsync(id);

        var plain = await account.GetAsync(id);
        var waited = await account.GetAsync(id, waitSeconds: 30);

        Assert.True(JsonNode.DeepEquals(settled, plain), $"{settled.ToJsonString()} then {plain.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(plain, waited), $"{plain.ToJsonString()} then {waited.ToJsonString()}");
    }

    [Fact]
    public async Task A_wait_ends_when_its_seconds_pass_and_an_invalid_Prefer_is_ignored()
    {
        // No workers: the batch stays PROCESSING for as long as the test needs.
        await using var app = await TestApp.StartAsync(TProvider.Name, new Dictionary<string, string?> { ["Workers:Enabled"] = "false" });
        var account = await app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(Bodies.Person("contact.emails"), Bodies.Person("contact.phones")));

        var waited = await account.GetAsync(id, waitSeconds: 1);

        Assert.Equal("PROCESSING", waited["status"]!.GetValue<string>());
        foreach (var result in waited["results"]!.AsArray().Select(r => r!.AsObject()))
        {
            Assert.Equal("PROCESSING", result["status"]!.GetValue<string>());
            Assert.Equal(["enrichment_type", "status"], result.Select(p => p.Key).Order());
        }

        foreach (var prefer in InvalidPreferences)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{id}");
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
            using var response = await account.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("PROCESSING", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
            // Ignored means no wait at all (checked where the header is read, so no clock is involved).
            Assert.Equal(TimeSpan.Zero, EnrichEndpoints.PreferredWait(RequestWithPrefer(prefer)));
        }
    }

    [Theory]
    [InlineData("wait=5", 5)]
    [InlineData("WAIT=3", 3)]
    [InlineData("respond-async, wait=7", 7)]
    [InlineData("wait=\"4\"", 4)]
    [InlineData("wait=30", 30)]
    [InlineData("wait=600", 30)]
    public void A_valid_wait_is_read_and_held_to_30_seconds(string prefer, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), EnrichEndpoints.PreferredWait(RequestWithPrefer(prefer)));

    private static readonly string[] InvalidPreferences = ["wait=abc", "wait=0", "wait=-1", "wait=1.5", "wait= ", "wait", "respond-async", "handling=lenient"];

    private static HttpRequest RequestWithPrefer(string prefer)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["Prefer"] = prefer;
        return context.Request;
    }

    private static JsonObject Known(DirectoryRow row, params string[] fields) => Bodies.Named(row.FirstName, row.LastName, row.Domain, fields);

    private static void AssertEmails(JsonObject result, string email)
    {
        var emails = result["emails"]!.AsArray();
        var only = Assert.Single(emails)!;
        Assert.Equal(email, only["email"]!.GetValue<string>());
        // A listing alone is no verdict on deliverability.
        Assert.Equal("UNKNOWN", only["status"]!.GetValue<string>());
        Assert.Equal(email, result["most_probable_email"]!.GetValue<string>());
    }

    private static void AssertPhones(JsonObject result, string e164)
    {
        var only = Assert.Single(result["phones"]!.AsArray())!;
        Assert.Equal(e164, only["number"]!.GetValue<string>());
        Assert.Equal("FR", only["region"]!.GetValue<string>());
    }
}

public sealed class SqlitePollingTests(AppFixture<Sqlite> fixture) : PollingTests<Sqlite>(fixture);

public sealed class PostgresPollingTests(AppFixture<Postgres> fixture) : PollingTests<Postgres>(fixture);
