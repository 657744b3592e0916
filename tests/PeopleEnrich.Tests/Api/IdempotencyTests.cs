using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>The Idempotency-Key extension: a retried POST replays its 202 and creates and charges nothing new.</summary>
public abstract class IdempotencyTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private const string HeaderLocation = "header.Idempotency-Key";

    private TestApp App => fixture.App;

    [Fact]
    public async Task The_same_key_and_body_replay_the_original_202_and_create_and_charge_nothing_new()
    {
        // A person the directory knows with a phone: the batch costs 10 once it completes, so a second charge would show.
        var person = await KnownPersonWithPhoneAsync();
        var account = await App.CreateAccountAsync();
        var body = Bodies.Batch(person).ToJsonString();
        var key = "order-" + Bodies.Unique();

        using var first = await account.PostJsonAsync(body, key);
        var original = await first.AssertAcceptedAsync();
        var id = original["request_id"]!.GetValue<string>();
        using var retry = await account.PostJsonAsync(body, key);
        var replayed = await retry.AssertAcceptedAsync();

        Assert.Equal(id, replayed["request_id"]!.GetValue<string>());
        Assert.Equal(original["item_count"]!.GetValue<long>(), replayed["item_count"]!.GetValue<long>());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        var afterRetry = await App.StoredStateAsync(account);
        Assert.Equal((1L, 1L), (afterRetry.Batches, afterRetry.Items));

        // Once the batch has completed and been charged, a retry still creates and charges nothing.
        await account.WaitForCompletionAsync(id);
        using var late = await account.PostJsonAsync(body, key);
        Assert.Equal(id, (await late.AssertAcceptedAsync())["request_id"]!.GetValue<string>());
        var settled = await App.StoredStateAsync(account);
        Assert.Equal((1L, 1L, 10L, 0L), (settled.Batches, settled.Items, settled.Used, settled.Reserved));
        Assert.Equal((10L, 1000L, 990L), await account.CreditsAsync());
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422_at_the_header_and_stores_nothing()
    {
        var account = await App.CreateAccountAsync();
        var key = "order-" + Bodies.Unique();
        var id = (await (await account.PostJsonAsync(Bodies.Batch(1), key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();
        await account.WaitForCompletionAsync(id);
        var before = await App.StoredStateAsync(account);
        var other = Bodies.Batch(1);

        using var response = await account.PostJsonAsync(other, key);

        var problem = await response.AssertUnprocessableAtAsync(HeaderLocation);
        Assert.Equal(key, problem.ErrorAt(HeaderLocation)["value"]!.GetValue<string>());
        await App.AssertNothingStoredAsync(account, before);
        // The body itself was fine: under a new key it is accepted.
        await (await account.PostJsonAsync(other, "order-" + Bodies.Unique())).AssertAcceptedAsync();
    }

    public static TheoryData<string> InvalidKeys =>
    [
        "",
        new string('k', 256),
        "key\u0001",
        "key\twith-a-tab",
        "key\u007f",
        "clé",
        "キー",
    ];

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task An_invalid_key_is_422_at_the_header_and_stores_nothing(string key)
    {
        var account = await App.CreateAccountAsync();
        using var client = Utf8HeaderClient(account);
        var before = await App.StoredStateAsync(account);

        using var response = await client.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()), idempotencyKey: key);

        var problem = await response.AssertUnprocessableAtAsync(HeaderLocation);
        Assert.Equal([HeaderLocation], problem.Locations());
        await App.AssertNothingStoredAsync(account, before);
    }

    [Fact]
    public async Task An_invalid_key_and_an_invalid_body_are_both_listed()
    {
        var account = await App.CreateAccountAsync();

        using var response = await account.PostJsonAsync("{\"requests\": []}", new string('k', 256));

        await response.AssertUnprocessableAtAsync(HeaderLocation, "body.requests");
    }

    public static TheoryData<string> ValidKeys =>
    [
        "k",
        new string('k', 255),
        "a b~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}",
        Guid.NewGuid().ToString(),
    ];

    [Theory]
    [MemberData(nameof(ValidKeys))]
    public async Task Any_1_to_255_printable_ASCII_characters_are_a_key(string key)
    {
        var account = await App.CreateAccountAsync();
        var body = Bodies.Batch(1).ToJsonString();

        var first = (await (await account.PostJsonAsync(body, key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();
        var second = (await (await account.PostJsonAsync(body, key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();

        Assert.Equal(first, second);
        Assert.Equal(1, (await App.StoredStateAsync(account)).Batches);
    }

    [Fact]
    public async Task The_same_key_from_another_account_is_independent()
    {
        var alice = await App.CreateAccountAsync();
        var bob = await App.CreateAccountAsync();
        var key = "order-" + Bodies.Unique();
        var body = Bodies.Batch(1).ToJsonString();

        var alices = (await (await alice.PostJsonAsync(body, key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();
        var bobs = (await (await bob.PostJsonAsync(body, key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();
        // Bob's use of the key with another body concerns Bob's requests only.
        using var bobsOther = await bob.PostJsonAsync(Bodies.Batch(1), key);
        await bobsOther.AssertUnprocessableAtAsync(HeaderLocation);
        var alicesAgain = (await (await alice.PostJsonAsync(body, key)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();

        Assert.NotEqual(alices, bobs);
        Assert.Equal(alices, alicesAgain);
        Assert.Equal(1, (await App.StoredStateAsync(alice)).Batches);
        Assert.Equal(1, (await App.StoredStateAsync(bob)).Batches);
        await (await bob.Http.GetAsync($"{EnrichPath}/{alices}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(10)]
    public async Task Concurrent_first_uses_of_a_key_create_one_batch_and_all_answer_its_id(long credits)
    {
        // With 10 credits the first use takes them all: the others must still replay it, not answer 402.
        for (var round = 0; round < 3; round++)
        {
            var account = await App.CreateAccountAsync(credits);
            var body = Bodies.Batch(Bodies.Person("contact.phones")).ToJsonString();
            var key = "order-" + Bodies.Unique();

            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => account.PostJsonAsync(body, key)));

            var ids = new List<string>();
            foreach (var response in responses)
            {
                using (response)
                {
                    ids.Add((await response.AssertAcceptedAsync())["request_id"]!.GetValue<string>());
                }
            }

            Assert.Single(ids.Distinct());
            var stored = await App.StoredStateAsync(account);
            Assert.Equal((1L, 1L), (stored.Batches, stored.Items));
            await account.WaitForCompletionAsync(ids[0]);
            Assert.Equal((0L, credits, credits), await account.CreditsAsync());
        }
    }

    private async Task<JsonObject> KnownPersonWithPhoneAsync()
    {
        var unique = Bodies.Unique();
        var row = new DirectoryRow($"Grace{unique}", $"Hopper{unique}", $"navy{unique}.com", null, "+33612345678");
        await App.ImportDirectoryAsync(row);
        return Bodies.Named(row.FirstName, row.LastName, row.Domain, "contact.phones");
    }

    /// <summary>A client that sends header values as UTF-8, as some clients do, so non-ASCII keys reach the server.</summary>
    private HttpClient Utf8HeaderClient(TestAccount account)
    {
        var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = account.Http.BaseAddress,
        };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", account.ApiKey);
        return client;
    }
}

public sealed class SqliteIdempotencyTests(AppFixture<Sqlite> fixture) : IdempotencyTests<Sqlite>(fixture);

public sealed class PostgresIdempotencyTests(AppFixture<Postgres> fixture) : IdempotencyTests<Postgres>(fixture);
