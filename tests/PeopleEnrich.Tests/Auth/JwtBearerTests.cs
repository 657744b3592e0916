using System.Net;
using System.Net.Http.Json;
using PeopleEnrich.Accounts;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Auth;

/// <summary>An app that trusts <see cref="JwtTokens.Issuer"/>, with <see cref="Key"/> published in a JWKS file.</summary>
public sealed class JwksFileAppFixture<TProvider> : ConfiguredAppFixture<TProvider> where TProvider : IDatabaseProvider
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("peopleenrich-jwks-");

    /// <summary>The published key.</summary>
    public SigningKey Key { get; } = new();

    /// <summary>Another key pair that claims the published key's id.</summary>
    public SigningKey Impostor { get; private set; } = null!;

    /// <summary>A key pair under an id that is not published.</summary>
    public SigningKey Unpublished { get; } = new();

    protected override async Task<IReadOnlyDictionary<string, string?>> PrepareAsync()
    {
        Impostor = new SigningKey(Key.KeyId);
        var file = Path.Combine(_folder.FullName, "jwks.json");
        await File.WriteAllTextAsync(file, JwtTokens.Jwks(Key));
        return JwtTokens.Settings(jwksFile: file);
    }

    protected override ValueTask CleanupAsync()
    {
        Key.Dispose();
        Impostor?.Dispose();
        Unpublished.Dispose();
        _folder.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}

public enum TokenFault
{
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    SignedByAnotherKeyWithTheSameKid,
    UnknownKid,
    UnknownAccount,
    NoAccountClaim,
    NoExpiry,
    UnsignedAlgNone,
    AlgNoneNamingTheTrustedKid,
    Garbage,
}

public abstract class JwtBearerTests<TProvider>(JwksFileAppFixture<TProvider> fixture) : IClassFixture<JwksFileAppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task A_valid_token_acts_for_the_account_it_names_on_reads_and_writes()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var accounts = App.Service<AccountStore>();
        var other = await accounts.CreateAccountAsync("jwt-other-" + tag, 111, null, CancellationToken.None);
        var named = await accounts.CreateAccountAsync("jwt-named-" + tag, 37, null, CancellationToken.None);
        var token = JwtTokens.Create(fixture.Key, named.AccountId);
        var caller = new TestAccount(named.AccountId, token, App.Client("Bearer " + token));

        Assert.Equal((0L, 37L, 37L), await caller.CreditsAsync());

        var requestId = await caller.SubmitAcceptedAsync(People.Batch(People.Person("Token", "Holder", $"jwt-{tag}.com")));
        var batch = await caller.WaitForCompletionAsync(requestId);
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());

        // The batch is the named account's: another account's key does not see it.
        using var otherClient = App.Client(other.ApiKey);
        using var notTheirs = await otherClient.GetAsync($"/api/v2/people/enrich/{requestId}");
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
    }

    [Theory]
    [InlineData(TokenFault.Expired, "expired or not yet valid")]
    [InlineData(TokenFault.NotYetValid, "expired or not yet valid")]
    [InlineData(TokenFault.WrongIssuer, "issuer")]
    [InlineData(TokenFault.WrongAudience, "audience")]
    [InlineData(TokenFault.SignedByAnotherKeyWithTheSameKid, "signature")]
    [InlineData(TokenFault.UnknownKid, "signature")]
    [InlineData(TokenFault.UnknownAccount, "names no account")]
    [InlineData(TokenFault.NoAccountClaim, "names no account")]
    [InlineData(TokenFault.NoExpiry, "no expiry")]
    [InlineData(TokenFault.UnsignedAlgNone, "signature")]
    [InlineData(TokenFault.AlgNoneNamingTheTrustedKid, "signature")]
    [InlineData(TokenFault.Garbage, "malformed")]
    public async Task A_faulty_token_is_refused_with_a_401_problem_that_says_why(TokenFault fault, string reason)
    {
        var account = await App.CreateAccountAsync(credits: 50);
        var now = DateTime.UtcNow;
        var key = fixture.Key;
        var token = fault switch
        {
            // Well beyond the 30 s of tolerated clock skew, both ways.
            TokenFault.Expired => JwtTokens.Create(key, account.AccountId, notBefore: now.AddHours(-2), expires: now.AddMinutes(-5)),
            TokenFault.NotYetValid => JwtTokens.Create(key, account.AccountId, notBefore: now.AddMinutes(5), expires: now.AddHours(1)),
            TokenFault.WrongIssuer => JwtTokens.Create(key, account.AccountId, issuer: "https://impostor.peopleenrich.test/"),
            TokenFault.WrongAudience => JwtTokens.Create(key, account.AccountId, audience: "https://some-other-api.test/"),
            TokenFault.SignedByAnotherKeyWithTheSameKid => JwtTokens.Create(fixture.Impostor, account.AccountId),
            TokenFault.UnknownKid => JwtTokens.Create(fixture.Unpublished, account.AccountId),
            TokenFault.UnknownAccount => JwtTokens.Create(key, Guid.CreateVersion7().ToString()),
            TokenFault.NoAccountClaim => JwtTokens.Create(key, accountId: null),
            TokenFault.NoExpiry => JwtTokens.Create(key, account.AccountId, withExpiry: false),
            TokenFault.UnsignedAlgNone => JwtTokens.Create(key: null, account.AccountId),
            TokenFault.AlgNoneNamingTheTrustedKid => JwtTokens.Unsigned(key.KeyId, account.AccountId),
            TokenFault.Garbage => "eyJ.x.y",
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };
        using var client = App.Client("Bearer " + token);

        using (var read = await client.GetAsync("/api/v2/credits"))
        {
            await read.AssertUnauthorizedAsync(reason, token.Length > 10 ? token : null);
        }

        using (var write = await client.PostAsJsonAsync("/api/v2/people/enrich", People.Batch(People.Person())))
        {
            await write.AssertUnauthorizedAsync(reason, token.Length > 10 ? token : null);
        }

        // Nothing was reserved or charged to the account the token named.
        Assert.Equal((0L, 50L, 50L), await account.CreditsAsync());
    }

    [Fact]
    public async Task The_same_valid_token_works_where_its_spoiled_copy_does_not()
    {
        // The refusals above are not the server refusing every token: one byte of the signature decides.
        var account = await App.CreateAccountAsync(credits: 5);
        var token = JwtTokens.Create(fixture.Key, account.AccountId);
        using var valid = App.Client("Bearer " + token);
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/api/v2/credits")).StatusCode);

        var at = token.LastIndexOf('.') + 20;
        var tampered = token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
        using var spoiled = App.Client("Bearer " + tampered);
        await (await spoiled.GetAsync("/api/v2/credits")).AssertUnauthorizedAsync("signature", tampered);
    }
}

public sealed class SqliteJwtBearerTests(JwksFileAppFixture<Sqlite> fixture) : JwtBearerTests<Sqlite>(fixture);

public sealed class PostgresJwtBearerTests(JwksFileAppFixture<Postgres> fixture) : JwtBearerTests<Postgres>(fixture);

/// <summary>Without Auth:Jwt the server takes API keys only.</summary>
public abstract class JwtDisabledTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task A_well_formed_token_is_refused_when_bearer_tokens_are_not_configured()
    {
        var account = await fixture.App.CreateAccountAsync(credits: 20);
        using var key = new SigningKey();
        var token = JwtTokens.Create(key, account.AccountId);
        using var client = fixture.App.Client("Bearer " + token);

        await (await client.GetAsync("/api/v2/credits")).AssertUnauthorizedAsync("not enabled", token);

        // The same account's API key works on the same server.
        Assert.Equal((0L, 20L, 20L), await account.CreditsAsync());
    }
}

public sealed class SqliteJwtDisabledTests(AppFixture<Sqlite> fixture) : JwtDisabledTests<Sqlite>(fixture);

public sealed class PostgresJwtDisabledTests(AppFixture<Postgres> fixture) : JwtDisabledTests<Postgres>(fixture);
