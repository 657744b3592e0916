using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PeopleEnrich.Accounts;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Admin;

/// <summary>
/// The admin commands run as the operator runs them: the built program in a child process, on the
/// database of a server that is running meanwhile and sees every change at once.
/// </summary>
public abstract partial class AdminCommandTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private static readonly string[] ChangeableTables = ["accounts", "api_keys", "credit_entries", "directory_contacts"];

    private TestApp App => fixture.App;

    private Database Database => App.Service<Database>();

    private Task<ProgramResult> RunAsync(params string[] args) => ProgramRunner.RunAsync(App.Database, args);

    [Fact]
    public async Task Accounts_create_prints_one_JSON_object_whose_key_works_on_the_running_server()
    {
        var name = "cli-" + Guid.NewGuid().ToString("N")[..10];
        var created = (await RunAsync("accounts", "create", "--name", name, "--credits", "50", "--json")).AssertSucceeded();

        Assert.Equal("", created.StandardError);
        var line = Assert.Single(created.OutputLines);
        var json = Assert.IsType<JsonObject>(JsonNode.Parse(line));
        Assert.Equal(["account_id", "api_key"], json.Select(p => p.Key).Order());
        var accountId = json["account_id"]!.GetValue<string>();
        var apiKey = json["api_key"]!.GetValue<string>();
        Assert.True(Guid.TryParse(accountId, out _), accountId);
        Assert.StartsWith("pe_", apiKey);

        using var client = App.Client(apiKey);
        Assert.Equal((0L, 50L, 50L), await new TestAccount(accountId, apiKey, client).CreditsAsync());
        using var asBearer = App.Client("Bearer " + apiKey);
        Assert.Equal(HttpStatusCode.OK, (await asBearer.GetAsync("/api/v2/credits")).StatusCode);
    }

    [Fact]
    public async Task Only_a_hash_of_the_key_is_stored()
    {
        var (accountId, apiKey) = await CreateAccountAsync(credits: 1);

        var rows = await DatabaseDump.RowsAsync(Database, "SELECT * FROM api_keys WHERE account_id = @accountId", new { accountId });
        var row = Assert.Single(rows);
        foreach (var (column, value) in row)
        {
            var text = value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes) + Encoding.Latin1.GetString(bytes),
                _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
            };
            Assert.False(text.Contains(apiKey, StringComparison.Ordinal), $"api_keys.{column} holds the key");
            Assert.False(text.Contains(apiKey[ApiKeys.LookupLength..], StringComparison.Ordinal), $"api_keys.{column} holds the key's secret part");
        }

        var hash = Assert.IsType<byte[]>(row["hash"]);
        Assert.Equal(32, hash.Length);
        Assert.NotEqual(Encoding.UTF8.GetBytes(apiKey), hash);
        Assert.NotEqual(Encoding.UTF8.GetBytes(apiKey)[..32], hash);
    }

    [Fact]
    public async Task Keys_and_credits_are_managed_from_the_command_line_and_take_effect_at_once()
    {
        var name = "ops-" + Guid.NewGuid().ToString("N")[..10];
        var (accountId, firstKey) = await CreateAccountAsync(credits: 50, name);
        var firstPrefix = ApiKeys.LookupPrefix(firstKey);

        var listed = (await RunAsync("accounts", "list")).AssertSucceeded();
        var row = RowOf(listed, accountId);
        Assert.Contains(name, row);
        Assert.Contains(firstPrefix, row);

        // A second key.
        var createdKey = (await RunAsync("keys", "create", "--account", accountId)).AssertSucceeded();
        var secondKey = Assert.Single(ApiKeyPattern().Matches(createdKey.StandardOutput)).Value;
        Assert.NotEqual(firstKey, secondKey);
        var secondPrefix = ApiKeys.LookupPrefix(secondKey);
        Assert.Contains($"keys revoke {secondPrefix}", createdKey.StandardOutput);
        using var first = App.Client(firstKey);
        using var second = App.Client(secondKey);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/v2/credits")).StatusCode);
        Assert.Equal((0L, 50L, 50L), await new TestAccount(accountId, secondKey, second).CreditsAsync());

        var listedTwo = RowOf((await RunAsync("accounts", "list")).AssertSucceeded(), accountId);
        Assert.Contains(firstPrefix, listedTwo);
        Assert.Contains(secondPrefix, listedTwo);

        // Revoking the first: refused at once by the running server, the other key unaffected.
        var revoked = (await RunAsync("keys", "revoke", firstPrefix)).AssertSucceeded();
        Assert.Contains(firstPrefix, revoked.StandardOutput);
        await (await first.GetAsync("/api/v2/credits")).AssertUnauthorizedAsync("unknown or revoked", firstKey);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/v2/credits")).StatusCode);
        var listedAfterRevoke = RowOf((await RunAsync("accounts", "list")).AssertSucceeded(), accountId);
        Assert.DoesNotContain(firstPrefix, listedAfterRevoke);
        Assert.Contains(secondPrefix, listedAfterRevoke);

        // More credits.
        var granted = (await RunAsync("credits", "grant", "--account", accountId, "--amount", "25")).AssertSucceeded();
        Assert.Contains("total 75", granted.StandardOutput);
        Assert.Equal((0L, 75L, 75L), await new TestAccount(accountId, secondKey, second).CreditsAsync());
    }

    [Theory]
    [InlineData("duplicate account name", "already exists")]
    [InlineData("keys for an unknown account", "No account with id or name")]
    [InlineData("credits for an unknown account", "No account with id or name")]
    [InlineData("a zero amount", "positive")]
    [InlineData("a negative amount", "positive")]
    [InlineData("revoking an unknown prefix", "No active key starts with")]
    [InlineData("importing a missing file", "No file at")]
    public async Task A_mistake_is_explained_on_stderr_with_exit_code_1_and_changes_nothing(string mistake, string explanation)
    {
        var name = "mistake-" + Guid.NewGuid().ToString("N")[..10];
        var (accountId, _) = await CreateAccountAsync(credits: 10, name);
        var unknownAccount = Guid.CreateVersion7().ToString();
        string[] args = mistake switch
        {
            "duplicate account name" => ["accounts", "create", "--name", name, "--credits", "5", "--json"],
            "keys for an unknown account" => ["keys", "create", "--account", unknownAccount],
            "credits for an unknown account" => ["credits", "grant", "--account", unknownAccount, "--amount", "5"],
            "a zero amount" => ["credits", "grant", "--account", accountId, "--amount", "0"],
            "a negative amount" => ["credits", "grant", "--account", accountId, "--amount", "-5"],
            "revoking an unknown prefix" => ["keys", "revoke", "pe_" + Guid.NewGuid().ToString("N")[..8]],
            "importing a missing file" => ["directory", "import", Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.csv")],
            _ => throw new ArgumentOutOfRangeException(nameof(mistake)),
        };
        var before = await DatabaseDump.TablesAsync(Database, ChangeableTables);

        var result = await RunAsync(args);

        var error = result.AssertFailedWithError();
        Assert.Contains(explanation, error);
        Assert.DoesNotContain("   at ", result.StandardError); // a message, not a stack trace
        Assert.Equal(before, await DatabaseDump.TablesAsync(Database, ChangeableTables));
    }

    private async Task<(string AccountId, string ApiKey)> CreateAccountAsync(long credits, string? name = null)
    {
        var created = (await RunAsync("accounts", "create", "--name", name ?? "cli-" + Guid.NewGuid().ToString("N")[..10], "--credits", $"{credits}", "--json"))
            .AssertSucceeded();
        var json = JsonNode.Parse(created.StandardOutput)!;
        return (json["account_id"]!.GetValue<string>(), json["api_key"]!.GetValue<string>());
    }

    /// <summary>The one line of 'accounts list' that shows the account.</summary>
    private static string RowOf(ProgramResult listed, string accountId)
    {
        var rows = listed.OutputLines.Where(l => l.Contains(accountId, StringComparison.Ordinal)).ToList();
        return Assert.Single(rows);
    }

    [GeneratedRegex("pe_[0-9A-Za-z]{43}")]
    private static partial Regex ApiKeyPattern();
}

public sealed class SqliteAdminCommandTests(AppFixture<Sqlite> fixture) : AdminCommandTests<Sqlite>(fixture);

public sealed class PostgresAdminCommandTests(AppFixture<Postgres> fixture) : AdminCommandTests<Postgres>(fixture);

/// <summary>The program finds what it needs wherever it is started from.</summary>
public sealed class ProgramWorkingDirectoryTests
{
    [Fact]
    public async Task A_relative_SQLite_path_is_relative_to_the_working_directory_and_the_program_runs_from_anywhere()
    {
        var folder = Directory.CreateTempSubdirectory("peopleenrich-cwd-");
        try
        {
            var environment = new Dictionary<string, string?> { ["ConnectionStrings__Sqlite"] = "Data Source=data/x.db" };
            var created = (await ProgramRunner.RunAsync(["accounts", "create", "--name", "from-anywhere", "--json"], environment, folder.FullName))
                .AssertSucceeded();
            Assert.StartsWith("pe_", JsonNode.Parse(created.StandardOutput)!["api_key"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(folder.FullName, "data", "x.db")), $"no data/x.db under {folder.FullName}");

            var listed = (await ProgramRunner.RunAsync(["accounts", "list"], environment, folder.FullName)).AssertSucceeded();
            Assert.Contains("from-anywhere", listed.StandardOutput);

            // A relative CSV path is relative to the working directory too.
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "contacts.csv"), "firstname,lastname,domain,email\nAda,Lovelace,engines.example,ada@engines.example\n");
            var imported = (await ProgramRunner.RunAsync(["directory", "import", "contacts.csv"], environment, folder.FullName)).AssertSucceeded();
            Assert.Contains("Rows read: 1; imported: 1;", imported.StandardOutput);
            Assert.False(File.Exists(Path.Combine(ProgramRunner.SolutionRoot, "data", "x.db")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }
}
