extern alias SimulatedWorld;

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Evidence;

/// <summary>
/// "Why this address?": GET …/evidence through the real app against the simulated world. Each returned
/// address and number names what it was seen on: the mail host and its reply, the page, the imported
/// file and line, the addresses that back a pattern.
/// </summary>
public abstract class EvidenceTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            TeamSite.Acme(
                "<a href=\"/team\">Our team</a>",
                "<ul><li><h3>John Smith</h3><p>Mobile <a href=\"tel:+14153450123\">(415) 345-0123</a></p></li></ul>"),
            new DomainDescription { Name = "catchall.test", Mx = [new MxDescription { Host = "mx.catchall.test" }], Behaviour = Behaviour.CatchAll },
        ],
    };

    [Fact]
    public async Task Each_address_and_number_names_what_it_was_seen_on_and_a_cached_answer_shows_the_original_evidence()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader("""
            firstname,lastname,domain,email
            Ann,Lee,catchall.test,ann.lee@catchall.test
            Bob,Ray,catchall.test,bob.ray@catchall.test
            """), "crm-export.csv", CancellationToken.None);
        var account = await app.App.CreateAccountAsync();

        // The two published people first: asking for them teaches catchall.test its pattern.
        var (publishedId, published) = await EnrichWithIdAsync(account, Query("Ann", "Lee", "catchall.test", null, Emails), Query("Bob", "Ray", "catchall.test", null, Emails));
        Assert.Equal([("ann.lee@catchall.test", "HIGH_PROBABILITY")], EmailsOf(published[0]));
        var (requestId, results) = await EnrichWithIdAsync(account, Query("Jane", "Doe", "acme.test", null, Emails),
            Query("John", "Smith", "acme.test"), Query("Ada", "King", "catchall.test", null, Emails));
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([("ada.king@catchall.test", "HIGH_PROBABILITY")], EmailsOf(results[2]));

        var evidence = await EvidenceAsync(account, requestId);
        AssertFollowsTheContract(app, evidence);
        Assert.Equal(requestId, evidence["request_id"]!.GetValue<string>());
        var items = evidence["results"]!.AsArray();
        Assert.Equal(3, items.Count);

        // A DELIVERABLE address: the mail host asked and its 250, on a domain that rejects made-up recipients.
        var jane = Single(items[0]!["emails"]!, "jane.doe@acme.test");
        Assert.Equal("DELIVERABLE", jane["status"]!.GetValue<string>());
        var smtp = Single(jane["evidence"]!, "smtp");
        Assert.Equal("mx.acme.test", smtp["mx_host"]!.GetValue<string>());
        Assert.StartsWith("250 ", smtp["reply"]!.GetValue<string>());
        Assert.False(smtp["catch_all"]!.GetValue<bool>());
        Assert.Empty(items[0]!["phones"]!.AsArray()); // Jane asked for emails only, and the GET shows no phones

        // A number from the team page names that page.
        var johnsPhone = Assert.Single(items[1]!["phones"]!.AsArray())!;
        Assert.Equal("+14153450123", johnsPhone["number"]!.GetValue<string>());
        var page = Single(johnsPhone["evidence"]!, "website");
        Assert.Equal("/team", new Uri(page["url"]!.GetValue<string>()).AbsolutePath);

        // A HIGH_PROBABILITY guess on a catch-all domain: the probe's acceptance, and the pattern with the addresses backing it.
        var ada = Single(items[2]!["emails"]!, "ada.king@catchall.test");
        Assert.True(Single(ada["evidence"]!, "smtp")["catch_all"]!.GetValue<bool>());
        var pattern = Single(ada["evidence"]!, "pattern");
        Assert.Equal("{first}.{last}", pattern["pattern"]!.GetValue<string>());
        Assert.Equal(["ann.lee@catchall.test", "bob.ray@catchall.test"], pattern["supporting"]!.AsArray().Select(a => a!.GetValue<string>()).Order());

        // A directory address names the imported file and its line.
        var ann = Single((await EvidenceAsync(account, publishedId))["results"]![0]!["emails"]!, "ann.lee@catchall.test");
        var row = Single(ann["evidence"]!, "directory");
        Assert.Equal("crm-export.csv", row["file"]!.GetValue<string>());
        Assert.Equal(2, row["line"]!.GetValue<int>());

        // The same people again: answered from the results cache, with the evidence of the answer it reuses.
        app.World.ResetObservations();
        var (againId, _) = await EnrichWithIdAsync(account, Query("Jane", "Doe", "acme.test", null, Emails), Query("John", "Smith", "acme.test"));
        Assert.Equal(0, app.World.TotalSessions + app.World.TotalHttpRequests + app.World.TotalDnsQueries);
        var again = (await EvidenceAsync(account, againId))["results"]!.AsArray();
        Assert.Equal(items[0]!["emails"]!.ToJsonString(), again[0]!["emails"]!.ToJsonString());
        Assert.Equal(items[1]!.ToJsonString(), again[1]!.ToJsonString());
    }

    [Fact]
    public async Task Another_accounts_request_and_an_unknown_one_are_not_found()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var owner = await app.App.CreateAccountAsync();
        var stranger = await app.App.CreateAccountAsync();
        var (requestId, _) = await EnrichWithIdAsync(owner, Query("Jane", "Doe", "acme.test", null, Emails));

        foreach (var (caller, id) in new[] { (stranger, requestId), (owner, Guid.NewGuid().ToString()), (owner, "not-a-request-id") })
        {
            using var response = await caller.Http.GetAsync($"/api/v2/people/enrich/{id}/evidence");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var anonymous = await app.App.Client().GetAsync($"/api/v2/people/enrich/{requestId}/evidence");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task An_item_still_processing_lists_nothing_and_each_item_lists_exactly_what_its_get_shows()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var account = await app.App.CreateAccountAsync();
        var (requestId, results) = await EnrichWithIdAsync(account, Query("Jane", "Doe", "acme.test", null, Phones), Query("Zed", "Nobody", "acme.test"));
        var items = (await EvidenceAsync(account, requestId))["results"]!.AsArray();
        for (var i = 0; i < results.Count; i++)
        {
            Assert.Equal(EmailsOf(results[i]), items[i]!["emails"]!.AsArray().Select(e => (e!["email"]!.GetValue<string>(), e["status"]!.GetValue<string>())).ToList());
            Assert.Equal(PhonesOf(results[i]), items[i]!["phones"]!.AsArray().Select(p => (p!["number"]!.GetValue<string>(), p["region"]!.GetValue<string>())).ToList());
        }
    }

    private static async Task<(string RequestId, IReadOnlyList<JsonNode> Results)> EnrichWithIdAsync(TestAccount account, params Dictionary<string, object>[] people)
    {
        var requestId = await account.SubmitAcceptedAsync(new { requests = people });
        var batch = await account.WaitForCompletionAsync(requestId);
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        return (requestId, batch["results"]!.AsArray().Select(r => r!).ToList());
    }

    private static async Task<JsonNode> EvidenceAsync(TestAccount account, string requestId)
    {
        using var response = await account.Http.GetAsync($"/api/v2/people/enrich/{requestId}/evidence");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>The answer checked against the contract's own schema, by the validator the API uses for requests.</summary>
    private static void AssertFollowsTheContract(WorldApp app, JsonNode evidence)
    {
        using var document = JsonDocument.Parse(evidence.ToJsonString());
        Assert.Empty(app.App.Service<SchemaValidator>().Validate(document.RootElement, "GetEnrichPeopleEvidenceOutputBody", "body"));
    }

    private static JsonNode Single(JsonNode list, string emailOrSource) =>
        Assert.Single(list.AsArray(), e => (e!["email"] ?? e["source"])!.GetValue<string>() == emailOrSource)!;
}

public sealed class SqliteEvidenceTests : EvidenceTests<Sqlite>;

public sealed class PostgresEvidenceTests : EvidenceTests<Postgres>;
