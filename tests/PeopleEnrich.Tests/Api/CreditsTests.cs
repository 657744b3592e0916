using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>
/// The credit line and its arithmetic: 1 per email and 10 per phone reserved at submission, only
/// what was found charged, the rest released, and never more reserved than remains.
/// </summary>
public abstract class CreditsTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Credits_are_one_MaxPeopleEnrichments_line()
    {
        var account = await App.CreateAccountAsync(credits: 250);

        var body = (await account.Http.GetFromJsonAsync<JsonObject>(CreditsPath))!;

        Assert.Equal(["credits"], body.Select(p => p.Key));
        var line = Assert.Single(body["credits"]!.AsArray())!.AsObject();
        Assert.Equal(["credit_type", "remaining_credits", "total_credits", "used_credits"], line.Select(p => p.Key).Order());
        Assert.Equal("MaxPeopleEnrichments", line["credit_type"]!.GetValue<string>());
        Assert.Equal(250, line["total_credits"]!.GetValue<long>());
        Assert.Equal(0, line["used_credits"]!.GetValue<long>());
        Assert.Equal(250, line["remaining_credits"]!.GetValue<long>());
    }

    [Fact]
    public async Task Nothing_found_charges_nothing_and_releases_the_whole_reservation()
    {
        var account = await App.CreateAccountAsync(credits: 1000);

        var id = await account.SubmitAcceptedAsync(Bodies.Batch(
            Bodies.Person("contact.emails"), Bodies.Person("contact.phones"), Bodies.Person("contact.emails", "contact.phones")));
        var (used, total, remaining) = await account.CreditsAsync();
        Assert.Equal((0L, 1000L), (used, total));
        // 22 reserved, some of it perhaps released already.
        Assert.InRange(remaining, 1000 - 22, 1000);
        await account.WaitForCompletionAsync(id);

        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
        var stored = await App.StoredStateAsync(account);
        Assert.Equal((0L, 0L), (stored.Used, stored.Reserved));
        Assert.Equal(1 + 3, stored.LedgerEntries); // the grant, and one settlement per item
    }

    [Fact]
    public async Task The_reservation_is_1_per_email_and_10_per_phone_and_402_is_at_the_boundary()
    {
        // No workers: reservations stay held, so every figure is exact.
        await using var app = await TestApp.StartAsync(TProvider.Name, new Dictionary<string, string?> { ["Workers:Enabled"] = "false" });
        var account = await app.CreateAccountAsync(credits: 25);

        await account.SubmitAcceptedAsync(Bodies.Batch(
            Bodies.Person("contact.emails"), Bodies.Person("contact.phones"), Bodies.Person("contact.emails", "contact.phones")));
        Assert.Equal((0L, 25L, 3L), await account.CreditsAsync());

        var before = await app.StoredStateAsync(account);
        using (var fourEmails = await account.PostJsonAsync(Bodies.Batch(4, "contact.emails")))
        {
            await fourEmails.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        }

        using (var onePhone = await account.PostJsonAsync(Bodies.Batch(1, "contact.phones")))
        {
            await onePhone.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        }

        await app.AssertNothingStoredAsync(account, before);

        await account.SubmitAcceptedAsync(Bodies.Batch(3, "contact.emails"));
        Assert.Equal((0L, 25L, 0L), await account.CreditsAsync());
        using (var oneEmail = await account.PostJsonAsync(Bodies.Batch(1, "contact.emails")))
        {
            await oneEmail.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        }

        var stored = await app.StoredStateAsync(account);
        Assert.Equal((2L, 6L, 25L, 0L), (stored.Batches, stored.Items, stored.Reserved, stored.Used));
    }

    [Fact]
    public async Task A_found_phone_costs_10_and_an_email_of_unknown_status_costs_nothing()
    {
        var unique = Bodies.Unique();
        var contact = new DirectoryRow($"Hedy{unique}", $"Lamarr{unique}", $"radio{unique}.com", $"hedy@radio{unique}.com", "+33612345678");
        await App.ImportDirectoryAsync(contact);
        var person = (string[] fields) => Bodies.Batch(Bodies.Named(contact.FirstName, contact.LastName, contact.Domain, fields));

        var phones = await SettleAsync(person(["contact.phones"]));
        var emails = await SettleAsync(person(["contact.emails"]));
        var both = await SettleAsync(person(["contact.emails", "contact.phones"]));

        Assert.Equal((10L, 1000L, 990L), phones.Credits);
        Assert.Equal("+33612345678", phones.Result["phones"]![0]!["number"]!.GetValue<string>());
        Assert.Equal((0L, 1000L, 1000L), emails.Credits);
        Assert.Equal("UNKNOWN", emails.Result["emails"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(contact.Email, emails.Result["most_probable_email"]!.GetValue<string>());
        Assert.Equal((10L, 1000L, 990L), both.Credits);
        Assert.Equal("UNKNOWN", both.Result["emails"]![0]!["status"]!.GetValue<string>());
        Assert.Single(both.Result["phones"]!.AsArray());
    }

    [Fact]
    public async Task Concurrent_submissions_never_reserve_more_than_remains()
    {
        // Every accepted batch finds a phone and is charged its whole reservation of 10.
        var unique = Bodies.Unique();
        var contact = new DirectoryRow($"Alan{unique}", $"Turing{unique}", $"bletchley{unique}.co.uk", null, "+33612345679");
        await App.ImportDirectoryAsync(contact);
        var account = await App.CreateAccountAsync(credits: 95);
        var body = Bodies.Batch(Bodies.Named(contact.FirstName, contact.LastName, contact.Domain, "contact.phones")).ToJsonString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => account.PostJsonAsync(body)));

        var accepted = new List<string>();
        foreach (var response in responses)
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add((await response.AssertAcceptedAsync())["request_id"]!.GetValue<string>());
                }
                else
                {
                    await response.AssertProblemAsync(HttpStatusCode.PaymentRequired);
                }
            }
        }

        Assert.Equal(9, accepted.Count);
        var (used, total, remaining) = await account.CreditsAsync();
        // Reserved or already charged, each accepted batch holds 10: 5 remain whatever the workers did meanwhile.
        Assert.Equal((95L, 5L), (total, remaining));
        Assert.InRange(used, 0, 90);
        foreach (var id in accepted)
        {
            await account.WaitForCompletionAsync(id);
        }

        Assert.Equal((90L, 95L, 5L), await account.CreditsAsync());
        var stored = await App.StoredStateAsync(account);
        Assert.Equal((9L, 9L, 90L, 0L), (stored.Batches, stored.Items, stored.Used, stored.Reserved));
    }

    private async Task<(JsonObject Result, (long Used, long Total, long Remaining) Credits)> SettleAsync(JsonObject body)
    {
        var account = await App.CreateAccountAsync(credits: 1000);
        var id = await account.SubmitAcceptedAsync(body);
        var batch = await account.WaitForCompletionAsync(id);
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        return (batch["results"]![0]!.AsObject(), await account.CreditsAsync());
    }
}

public sealed class SqliteCreditsTests(AppFixture<Sqlite> fixture) : CreditsTests<Sqlite>(fixture);

public sealed class PostgresCreditsTests(AppFixture<Postgres> fixture) : CreditsTests<Postgres>(fixture);
