using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.Accounts;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>Every status code of the contract, over real HTTP, each error a problem+json without internals.</summary>
public abstract class ErrorStatusTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task A_valid_batch_is_202_with_a_Location_that_answers_200()
    {
        var account = await App.CreateAccountAsync();

        using var response = await account.PostJsonAsync(Bodies.Batch(2));

        var accepted = await response.AssertAcceptedAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["item_count", "request_id", "status"], accepted.Select(p => p.Key).Order());
        var id = accepted["request_id"]!.GetValue<string>();
        Assert.True(Guid.TryParse(id, out _), $"request_id {id} is not a GUID");
        Assert.Equal("PROCESSING", accepted["status"]!.GetValue<string>());
        Assert.Equal(2, accepted["item_count"]!.GetValue<long>());

        var location = response.Headers.Location;
        Assert.NotNull(location);
        Assert.Equal($"{EnrichPath}/{id}", location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString);
        using var polled = await account.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, polled.StatusCode);
        Assert.Equal("application/json", polled.Content.Headers.ContentType?.MediaType);
        var batch = JsonNode.Parse(await polled.Content.ReadAsStringAsync())!;
        Assert.Equal(id, batch["request_id"]!.GetValue<string>());
        Assert.Equal(2, batch["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Credits_answer_200()
    {
        var account = await App.CreateAccountAsync();

        using var response = await account.Http.GetAsync(CreditsPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("{\"requests\": [")]
    [InlineData("{'requests': []}")]
    [InlineData("")]
    public async Task A_body_that_is_not_JSON_is_400(string body)
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);

        using var response = await account.PostJsonAsync(body);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        await App.AssertNothingStoredAsync(account, before);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"requests\": []}]")]
    [InlineData("42")]
    [InlineData("\"requests\"")]
    [InlineData("true")]
    [InlineData("null")]
    public async Task JSON_that_is_not_an_object_is_400(string body)
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);

        using var response = await account.PostJsonAsync(body);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        await App.AssertNothingStoredAsync(account, before);
    }

    [Fact]
    public async Task No_Authorization_is_401_on_every_operation()
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(1));
        using var anonymous = App.Client();

        using var post = await anonymous.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()));
        using var get = await anonymous.GetAsync($"{EnrichPath}/{id}");
        using var credits = await anonymous.GetAsync(CreditsPath);

        foreach (var response in new[] { post, get, credits })
        {
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains(response.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Bearer");
        }
    }

    [Theory]
    [InlineData("pe_ThisKeyWasNeverIssuedByThisServer0123456789ab")]
    [InlineData("Bearer pe_ThisKeyWasNeverIssuedByThisServer0123456789ab")]
    [InlineData("Basic dXNlcjpwYXNzd29yZA==")]
    [InlineData("Bearer")]
    [InlineData("x")]
    [InlineData("Bearer eyJhbGciOiJIUzI1NiJ9.eyJhY2NvdW50X2lkIjoieCJ9.c2lnbmF0dXJl")]
    public async Task An_unknown_credential_is_401_and_is_not_echoed(string authorization)
    {
        using var client = App.Client(authorization);

        using var post = await client.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()));
        using var credits = await client.GetAsync(CreditsPath);

        foreach (var response in new[] { post, credits })
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
            var credential = authorization.Replace("Bearer ", "", StringComparison.Ordinal);
            if (credential.Length > 8)
            {
                Assert.DoesNotContain(credential, problem.ToJsonString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_revoked_key_is_401_raw_or_as_bearer()
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(1));
        Assert.Equal(HttpStatusCode.OK, (await account.Http.GetAsync(CreditsPath)).StatusCode);

        await App.Service<AccountStore>().RevokeKeyAsync(account.ApiKey[..ApiKeys.LookupLength], CancellationToken.None);

        using var bearer = App.Client("Bearer " + account.ApiKey);
        var before = await App.StoredStateAsync(account);
        foreach (var client in new[] { account.Http, bearer })
        {
            using var credits = await client.GetAsync(CreditsPath);
            await credits.AssertProblemAsync(HttpStatusCode.Unauthorized);
            using var get = await client.GetAsync($"{EnrichPath}/{id}");
            await get.AssertProblemAsync(HttpStatusCode.Unauthorized);
            using var post = await client.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()));
            await post.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        Assert.Equal(before.Batches, (await App.StoredStateAsync(account)).Batches);
    }

    [Theory]
    [InlineData("{0}")]
    [InlineData("Bearer {0}")]
    public async Task The_key_is_accepted_raw_and_as_bearer(string format)
    {
        var account = await App.CreateAccountAsync();
        using var client = App.Client(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, account.ApiKey));

        using var post = await client.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()));
        var id = (await post.AssertAcceptedAsync())["request_id"]!.GetValue<string>();
        using var get = await client.GetAsync($"{EnrichPath}/{id}");
        using var credits = await client.GetAsync(CreditsPath);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, credits.StatusCode);
        Assert.Equal(1, (await App.StoredStateAsync(account)).Batches);
    }

    [Fact]
    public async Task A_reservation_above_the_remaining_credits_is_402_and_stores_nothing()
    {
        // One person asking for phones reserves 10; the account has 9.
        var account = await App.CreateAccountAsync(credits: 9);
        var before = await App.StoredStateAsync(account);

        using var response = await account.PostJsonAsync(Bodies.Batch(Bodies.Person("contact.phones")));

        await response.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        await App.AssertNothingStoredAsync(account, before);
        Assert.Equal((0L, 9L, 9L), await account.CreditsAsync());
    }

    [Fact]
    public async Task An_unknown_request_id_is_404_at_path_RequestID()
    {
        var account = await App.CreateAccountAsync();
        var unknown = Guid.NewGuid().ToString();

        using var response = await account.Http.GetAsync($"{EnrichPath}/{unknown}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("path.RequestID", problem.Errors()[0]["location"]!.GetValue<string>());
        Assert.Equal(unknown, problem.Errors()[0]["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("12345")]
    [InlineData("%27%20OR%20%271%27%3D%271")]
    [InlineData("00000000-0000-0000-0000-00000000000g")]
    public async Task A_request_id_that_is_not_a_GUID_is_404_at_path_RequestID(string id)
    {
        var account = await App.CreateAccountAsync();

        using var response = await account.Http.GetAsync($"{EnrichPath}/{id}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("path.RequestID", problem.Errors()[0]["location"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_accounts_request_is_404_never_403()
    {
        var owner = await App.CreateAccountAsync();
        var stranger = await App.CreateAccountAsync();
        var id = await owner.SubmitAcceptedAsync(Bodies.Batch(1));

        using var response = await stranger.Http.GetAsync($"{EnrichPath}/{id}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("path.RequestID", problem.Errors()[0]["location"]!.GetValue<string>());
        // The same id is the owner's, and the stranger's 404 is the one an unknown id gets.
        using var unknown = await stranger.Http.GetAsync($"{EnrichPath}/{Guid.NewGuid()}");
        Assert.Equal(problem["detail"]!.GetValue<string>(), (await unknown.AssertProblemAsync(HttpStatusCode.NotFound))["detail"]!.GetValue<string>());
        Assert.Equal(id, (await owner.GetAsync(id))["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_path_that_is_no_operation_is_404()
    {
        var account = await App.CreateAccountAsync();

        using var response = await account.Http.GetAsync("/api/v2/people/enrichment");

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("DELETE", "/api/v2/people/enrich/{0}")]
    [InlineData("PATCH", "/api/v2/people/enrich/{0}")]
    [InlineData("POST", "/api/v2/people/enrich/{0}")]
    [InlineData("DELETE", "/api/v2/people/enrich")]
    [InlineData("PUT", "/api/v2/people/enrich")]
    [InlineData("PUT", "/api/v2/credits")]
    [InlineData("POST", "/api/v2/credits")]
    public async Task A_wrong_method_is_405(string method, string path)
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(1));
        var before = await App.StoredStateAsync(account);
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, path, id))
        {
            Content = method is "GET" or "DELETE" ? null : new StringContent(Bodies.Batch(1).ToJsonString(), Encoding.UTF8, "application/json"),
        };

        using var response = await account.Http.SendAsync(request);

        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
        Assert.Equal(before.Batches, (await App.StoredStateAsync(account)).Batches);
        Assert.Equal(id, (await account.GetAsync(id))["request_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_1_MiB_is_413_with_or_without_Content_Length(bool chunked)
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);
        // Valid JSON in every other respect: only its size is wrong.
        var person = Bodies.Person();
        person["custom"] = new JsonObject { ["padding"] = new string('x', 1024 * 1024) };

        using var response = await account.Http.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(person).ToJsonString()), chunked: chunked);

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await App.AssertNothingStoredAsync(account, before);
    }

    [Fact]
    public async Task A_body_of_exactly_1_MiB_is_read()
    {
        var account = await App.CreateAccountAsync();
        var unique = Bodies.Unique();
        string Body(string padding)
        {
            var person = Bodies.Named($"Ada{unique}", $"Lovelace{unique}", $"d{unique}.com");
            person["custom"] = new JsonObject { ["padding"] = padding };
            return Bodies.Batch(person).ToJsonString();
        }

        var body = Encoding.UTF8.GetBytes(Body(new string('x', (1024 * 1024) - Encoding.UTF8.GetByteCount(Body("")))));
        Assert.Equal(1024 * 1024, body.Length);

        using var response = await account.Http.PostRawAsync(body, chunked: true);

        await response.AssertAcceptedAsync();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task A_content_type_other_than_JSON_is_415(string? contentType)
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);

        using var response = await account.Http.PostRawAsync(Encoding.UTF8.GetBytes(Bodies.Batch(1).ToJsonString()), contentType);

        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await App.AssertNothingStoredAsync(account, before);
    }

    [Fact]
    public async Task A_body_that_breaks_the_schema_is_422()
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);

        using var response = await account.PostJsonAsync("{\"requests\": []}");

        await response.AssertUnprocessableAtAsync("body.requests");
        await App.AssertNothingStoredAsync(account, before);
    }

    [Fact]
    public async Task Over_the_rate_limit_is_429_with_Retry_After_in_whole_seconds_and_nothing_stored()
    {
        await using var app = await TestApp.StartAsync(TProvider.Name, new Dictionary<string, string?> { ["RateLimit:PermitsPerSecond"] = "2" });
        var account = await app.CreateAccountAsync();
        var accepted = 0;
        HttpResponseMessage? limited = null;
        // Bursts of ten against a bucket of two: the first burst is over the limit however fast the machine.
        for (var burst = 0; burst < 20 && limited is null; burst++)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => account.PostJsonAsync(Bodies.Batch(1))));
            accepted += responses.Count(r => r.StatusCode == HttpStatusCode.Accepted);
            limited = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.TooManyRequests, $"got {(int)r.StatusCode}"));
            foreach (var response in responses.Where(r => r != limited))
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
            var retryAfter = Assert.Single(limited.Headers.GetValues("Retry-After"));
            Assert.Matches("^[0-9]+$", retryAfter);
            Assert.True(long.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture) >= 1, $"Retry-After: {retryAfter}");
        }

        // What was refused was not stored.
        Assert.Equal(accepted, (await app.StoredStateAsync(account)).Batches);
        // The limit is per key: another account's first request is answered.
        var other = await app.CreateAccountAsync();
        using var otherResponse = await other.Http.GetAsync(CreditsPath);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }
}

public sealed class SqliteErrorStatusTests(AppFixture<Sqlite> fixture) : ErrorStatusTests<Sqlite>(fixture);

public sealed class PostgresErrorStatusTests(AppFixture<Postgres> fixture) : ErrorStatusTests<Postgres>(fixture);
