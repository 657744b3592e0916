using System.Net;
using System.Text.Json.Nodes;
using PeopleEnrich.Accounts;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Auth;

/// <summary>Signing keys fetched from the authorization server's JWKS URL (a server of the test's own, on loopback).</summary>
public abstract class JwksUrlTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly TimeSpan RotationDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_token_signed_by_a_key_published_at_the_JWKS_URL_is_accepted()
    {
        using var key = new SigningKey();
        await using var keyServer = await JwksServer.StartAsync(JwtTokens.Jwks(key));
        await using var app = await TestApp.StartAsync(TProvider.Name, JwtTokens.Settings(jwksUrl: keyServer.Url));
        var account = await CreateAccountAsync(app, credits: 42);

        using var client = app.Client("Bearer " + JwtTokens.Create(key, account));
        using var response = await client.GetAsync("/api/v2/credits");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(42, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["credits"]![0]!["total_credits"]!.GetValue<long>());
        Assert.True(keyServer.Fetches >= 1, "the keys were not fetched from the JWKS URL");

        // A key the server does not publish is still refused.
        using var stranger = new SigningKey();
        using var refused = app.Client("Bearer " + JwtTokens.Create(stranger, account));
        await (await refused.GetAsync("/api/v2/credits")).AssertUnauthorizedAsync("signature");
    }

    [Fact]
    public async Task After_a_key_rotation_a_token_signed_by_the_new_key_is_accepted()
    {
        using var oldKey = new SigningKey();
        using var newKey = new SigningKey();
        await using var keyServer = await JwksServer.StartAsync(JwtTokens.Jwks(oldKey));
        await using var app = await TestApp.StartAsync(TProvider.Name, JwtTokens.Settings(jwksUrl: keyServer.Url));
        var account = await CreateAccountAsync(app, credits: 9);

        using (var before = app.Client("Bearer " + JwtTokens.Create(oldKey, account)))
        {
            Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/api/v2/credits")).StatusCode);
        }

        var fetchesBefore = keyServer.Fetches;
        keyServer.Serve(JwtTokens.Jwks(newKey));

        // The server fetches the keys again when a token names a key id it has not seen, but not
        // more often than every few seconds: until then such a token is refused, and only that way.
        var newToken = JwtTokens.Create(newKey, account);
        using var after = app.Client("Bearer " + newToken);
        var deadline = DateTime.UtcNow + RotationDeadline;
        while (true)
        {
            using var response = await after.GetAsync("/api/v2/credits");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal(9, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["credits"]![0]!["total_credits"]!.GetValue<long>());
                break;
            }

            await response.AssertUnauthorizedAsync("signature", newToken);
            Assert.True(DateTime.UtcNow < deadline, $"a token signed by the rotated-in key was still refused after {RotationDeadline.TotalSeconds} s");
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        Assert.True(keyServer.Fetches > fetchesBefore, "the new key was accepted without the keys being fetched again");
    }

    private static async Task<string> CreateAccountAsync(TestApp app, long credits) =>
        (await app.Service<AccountStore>().CreateAccountAsync("jwks-" + Guid.NewGuid().ToString("N")[..10], credits, null, CancellationToken.None)).AccountId;
}

public sealed class SqliteJwksUrlTests : JwksUrlTests<Sqlite>;

public sealed class PostgresJwksUrlTests : JwksUrlTests<Postgres>;
