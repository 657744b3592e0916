extern alias SimulatedWorld;

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.EmailFinder;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;
using AddressPattern = PeopleEnrich.Vocabulary.AddressPattern;

namespace PeopleEnrich.Tests.Bounces;

/// <summary>
/// Bounce feedback through the real API against the simulated world: a charged address reported to bounce is refunded once
/// (however often, and however concurrently, it is reported), an address never charged is not, and every later answer,
/// for any account, has the address INVALID, however willing the domain's server is to accept it.
/// </summary>
public abstract class BounceFeedbackTests<TProvider> where TProvider : IDatabaseProvider
{
    public const string BouncesPath = "/api/v2/people/bounces";

    // jane.doe's mailbox exists as far as the server's RCPT replies go: only the bounce tells that mail to her goes nowhere.
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = ["jane.doe", "john.smith", "ann.lee"] },
        ],
    };

    [Fact]
    public async Task A_bounce_is_refunded_once_and_makes_the_address_invalid_for_another_account()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var database = app.App.Service<Database>();
        // The operator's directory lists Ann (nobody is charged for her); imported first, since an import forgets the domain's cached answers.
        await app.App.ImportDirectoryAsync(new DirectoryRow("Ann", "Lee", "acme.test", "ann.lee@acme.test", null));
        var buyer = await app.App.CreateAccountAsync(credits: 10);
        var (requestId, jane) = await FindJaneAsync(buyer);
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(jane));
        Assert.Equal((1L, 10L, 9L), await buyer.CreditsAsync());
        Assert.NotEmpty(await CachedAnswersHoldingJaneAsync(database));
        var knowledge = app.App.Service<DomainKnowledge>();
        Assert.Contains("jane.doe", (await knowledge.GetAsync("acme.test", CancellationToken.None)).Shapes.SelectMany(s => s.Supporting));

        // Written loosely: the address is matched in its normal form, and answered so.
        var first = Assert.Single(await ReportAsync(buyer, new { emails = new[] { "  Jane.Doe@ACME.test " } }));
        Assert.Equal("jane.doe@acme.test", first["email"]!.GetValue<string>());
        Assert.True(first["refunded"]!.GetValue<bool>(), first.ToJsonString());
        Assert.Equal(requestId, first["request_id"]!.GetValue<string>());
        Assert.Contains(requestId, first["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal((0L, 10L, 10L), await buyer.CreditsAsync()); // exactly the email's charge back

        var again = Assert.Single(await ReportAsync(buyer, new { emails = new[] { new { email = "jane.doe@acme.test", reply = "550 5.1.1 <jane.doe@acme.test>: user unknown" } } }));
        Assert.False(again["refunded"]!.GetValue<bool>());
        Assert.Contains("already refunded", again["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal((0L, 10L, 10L), await buyer.CreditsAsync());

        var refund = Assert.Single(await RefundEntriesAsync(database, buyer));
        Assert.Equal(requestId, refund["batch_id"]);
        Assert.Equal(1L, Convert.ToInt64(refund["refunded"], CultureInfo.InvariantCulture));
        Assert.Equal(0L, Convert.ToInt64(refund["item_idx"], CultureInfo.InvariantCulture));

        var ann = Assert.Single(await ReportAsync(buyer, new { emails = new[] { "ann.lee@acme.test" } }));
        Assert.False(ann["refunded"]!.GetValue<bool>());

        // Forgotten by the cache and by the domain's pattern, which a listing of the address cannot make it support again.
        Assert.Empty(await CachedAnswersHoldingJaneAsync(database));
        Assert.Empty(await DatabaseDump.RowsAsync(database, "SELECT * FROM domain_addresses WHERE domain = 'acme.test' AND local_part = 'jane.doe'"));
        await knowledge.RecordAddressAsync("acme.test", "jane.doe", [AddressPattern.FirstDotLast], fromDirectory: true, CancellationToken.None);
        Assert.DoesNotContain("jane.doe", (await knowledge.GetAsync("acme.test", CancellationToken.None)).Shapes.SelectMany(s => s.Supporting));

        // Another account asks for her: the server would still accept the recipient (and its answer is remembered),
        // but the address is not asked again, and comes back INVALID, uncharged.
        app.World.ResetObservations();
        var other = await app.App.CreateAccountAsync(credits: 10);
        var otherRequest = await other.SubmitAcceptedAsync(new { requests = new[] { Query("Jane", "Doe", "acme.test", null, Emails), Query("Ann", "Lee", "acme.test", null, Emails) } });
        var answers = (await other.WaitForCompletionAsync(otherRequest))["results"]!;
        var answer = answers[0]!;
        Assert.Contains(("jane.doe@acme.test", "INVALID"), EmailsOf(answer));
        Assert.DoesNotContain(EmailsOf(answer), e => e.Email == "jane.doe@acme.test" && e.Status != "INVALID");
        Assert.NotEqual("jane.doe@acme.test", answer["most_probable_email"]?.GetValue<string>());
        // Listed by the directory, and a mailbox the server accepts: still INVALID once reported.
        Assert.Contains(("ann.lee@acme.test", "INVALID"), EmailsOf(answers[1]!));
        Assert.Null(answers[1]!["most_probable_email"]);
        Assert.Equal(0L, (await other.CreditsAsync()).Used);
        Assert.DoesNotContain(app.World.Hosts.SelectMany(h => h.Transcript.Lines),
            line => line.Text.Contains("<jane.doe@acme.test>", StringComparison.OrdinalIgnoreCase) || line.Text.Contains("<ann.lee@acme.test>", StringComparison.OrdinalIgnoreCase));

        // Why INVALID: the bounce, with the reply's codes only (the first report had none).
        var evidence = await other.Http.GetFromJsonAsync<JsonNode>($"/api/v2/people/enrich/{otherRequest}/evidence");
        var sightings = evidence!["results"]![0]!["emails"]!.AsArray().Single(e => e!["email"]!.GetValue<string>() == "jane.doe@acme.test")!["evidence"]!.AsArray();
        Assert.Contains(sightings, s => s!["source"]!.GetValue<string>() == "bounce");

        // The operator sees refunds against charges.
        var listed = (await ProgramRunner.RunAsync(app.App.Database, "accounts", "list", "--json")).AssertSucceeded();
        var row = JsonNode.Parse(listed.StandardOutput)!.AsArray().Single(a => a!["account_id"]!.GetValue<string>() == buyer.AccountId)!;
        Assert.Equal(1L, row["charged"]!.GetValue<long>());
        Assert.Equal(1L, row["refunded"]!.GetValue<long>());
        Assert.Equal(1L, row["refunds"]!.GetValue<long>());
        var table = (await ProgramRunner.RunAsync(app.App.Database, "accounts", "list")).AssertSucceeded();
        Assert.Contains(table.OutputLines, line => line.Contains(buyer.AccountId, StringComparison.Ordinal) && line.Contains("1 (1 bounce)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_address_never_charged_or_a_reply_that_is_no_bounce_refunds_nothing_and_says_why()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World);
        var database = app.App.Service<Database>();
        var buyer = await app.App.CreateAccountAsync(credits: 10);
        await FindJaneAsync(buyer);

        // The buyer's mailbox was full, or their mail refused as spam: the address is not refunded, nor marked.
        var soft = await ReportAsync(buyer, new
        {
            emails = new object[]
            {
                new { email = "jane.doe@acme.test", reply = "452 4.2.2 mailbox full" },
                new { email = "jane.doe@acme.test", reply = "550 5.7.1 message refused as spam" },
            },
        });
        Assert.All(soft, r => Assert.False(r["refunded"]!.GetValue<bool>()));
        Assert.Contains("temporary", soft[0]["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("policy", soft[1]["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1L, (await buyer.CreditsAsync()).Used);
        Assert.Empty(await DatabaseDump.RowsAsync(database, "SELECT * FROM bounced_addresses WHERE local_part = 'jane.doe'"));

        var stranger = await app.App.CreateAccountAsync(credits: 10);
        var results = await ReportAsync(stranger, new
        {
            emails = new object[]
            {
                "jane.doe@acme.test", // charged to another account
                new { email = "nobody@acme.test", bounced_at = "2026-01-05T10:00:00+01:00", reply = "550 5.1.1 user unknown" },
            },
        });
        Assert.All(results, r => Assert.False(r["refunded"]!.GetValue<bool>()));
        Assert.All(results, r => Assert.Contains("never charged to this account", r["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal(["jane.doe@acme.test", "nobody@acme.test"], results.Select(r => r["email"]!.GetValue<string>()));
        Assert.Equal((0L, 10L, 10L), await stranger.CreditsAsync());
        Assert.Empty(await RefundEntriesAsync(database, stranger));
        var nobody = Assert.Single(await DatabaseDump.RowsAsync(database, "SELECT bounced_at, reply FROM bounced_addresses WHERE local_part = 'nobody'"));
        Assert.Equal(DateTimeOffset.Parse("2026-01-05T09:00:00Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), Convert.ToInt64(nobody["bounced_at"], CultureInfo.InvariantCulture));
        Assert.Equal("550 5.1.1", nobody["reply"]); // the codes, not the text
    }

    [Fact]
    public async Task Two_reports_at_once_refund_once()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        var database = app.App.Service<Database>();
        var buyer = await app.App.CreateAccountAsync(credits: 10);
        var (requestId, _) = await FindJaneAsync(buyer);
        var logged = logs.Messages.Count;

        var reports = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ReportAsync(buyer, new { emails = new[] { "jane.doe@acme.test" } })));

        // Each report is logged, by its counts: the address is personal data, and logs go further than the tables.
        var reportLogs = logs.Messages.Skip(logged).ToList();
        Assert.Equal(8, reportLogs.Count(m => m.Contains("reported bounced addresses: 1 reported", StringComparison.Ordinal)));
        Assert.DoesNotContain(reportLogs, m => m.Contains("jane.doe", StringComparison.OrdinalIgnoreCase));

        Assert.Equal(1, reports.Count(r => r[0]["refunded"]!.GetValue<bool>()));
        Assert.All(reports.Where(r => !r[0]["refunded"]!.GetValue<bool>()),
            r => Assert.Contains("already refunded", r[0]["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal(requestId, Assert.Single(await RefundEntriesAsync(database, buyer))["batch_id"]);
        Assert.Equal((0L, 10L, 10L), await buyer.CreditsAsync());
    }

    [Fact]
    public async Task A_report_that_breaks_the_contract_is_422_at_each_location_and_stores_nothing()
    {
        await using var app = await TestApp.StartAsync(TProvider.Name);
        var account = await app.CreateAccountAsync();
        var before = await app.StoredStateAsync(account);

        await (await PostAsync(account, new { emails = Array.Empty<string>() })).AssertUnprocessableAtAsync("body.emails");
        await (await PostAsync(account, new { emails = Enumerable.Range(0, 101).Select(i => $"p{i}@acme.test").ToArray() })).AssertUnprocessableAtAsync("body.emails");
        await (await PostAsync(account, new { })).AssertUnprocessableAtAsync("body.emails");
        var problem = await (await PostAsync(account, new
        {
            emails = new object[]
            {
                "jane.doe@acme.test",
                "not an address",
                new { email = "jane@", bounced_at = "2026-12-01T09:30:00Z" },
                new { email = "ok@acme.test", bounced_at = "yesterday" },
                new { email = "ok@acme.test", bounced_at = "2999-01-01T00:00:00Z" },
                new { bounced_at = "2026-12-01T09:30:00Z" },
                new { email = "ok@acme.test", colour = "red" },
                42,
            },
        })).AssertUnprocessableAtAsync(
            "body.emails[1]", "body.emails[2].email", "body.emails[3].bounced_at", "body.emails[4].bounced_at", "body.emails[5].email", "body.emails[6].colour", "body.emails[7]");
        Assert.DoesNotContain(problem.Locations(), location => location.StartsWith("body.emails[0]", StringComparison.Ordinal));

        await app.AssertNothingStoredAsync(account, before);
        Assert.Empty(await DatabaseDump.RowsAsync(app.Service<Database>(), "SELECT * FROM bounced_addresses"));
        await (await app.Client().PostAsJsonAsync(BouncesPath, new { emails = new[] { "jane.doe@acme.test" } })).AssertUnauthorizedAsync("");
    }

    /// <summary>Jane Doe at acme.test, emails only: her request id and her result.</summary>
    private static async Task<(string RequestId, JsonNode Result)> FindJaneAsync(TestAccount account)
    {
        var requestId = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Jane", "Doe", "acme.test", null, Emails) } });
        var batch = await account.WaitForCompletionAsync(requestId);
        return (requestId, batch["results"]![0]!);
    }

    private static Task<HttpResponseMessage> PostAsync(TestAccount account, object body) => account.Http.PostAsJsonAsync(BouncesPath, body);

    private static async Task<IReadOnlyList<JsonNode>> ReportAsync(TestAccount account, object body)
    {
        using var response = await PostAsync(account, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!["results"]!.AsArray().Select(r => r!).ToList();
    }

    private static Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> RefundEntriesAsync(Database database, TestAccount account) =>
        DatabaseDump.RowsAsync(database, "SELECT batch_id, item_idx, refunded, charged FROM credit_entries WHERE account_id = @AccountId AND kind = 'REFUND'", new { account.AccountId });

    private static Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> CachedAnswersHoldingJaneAsync(Database database) =>
        DatabaseDump.RowsAsync(database, "SELECT cache_key FROM results_cache WHERE result LIKE '%jane.doe@acme.test%'");
}

public sealed class SqliteBounceFeedbackTests : BounceFeedbackTests<Sqlite>;

public sealed class PostgresBounceFeedbackTests : BounceFeedbackTests<Postgres>;
