using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ConsoleTable;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Admin;

/// <summary>
/// "Why was I charged?": <c>credits history</c> run as the operator runs it (the built program in a
/// child process) on the database of the running server, after grants and settled items.
/// </summary>
public abstract class CreditsHistoryTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    private Task<ProgramResult> RunAsync(params string[] args) => ProgramRunner.RunAsync(App.Database, args);

    [Fact]
    public async Task The_ledger_lists_grants_and_each_settled_item_newest_first_with_its_request()
    {
        var name = "ledger-" + Guid.NewGuid().ToString("N")[..10];
        (await RunAsync("accounts", "create", "--name", name, "--credits", "100")).AssertSucceeded();
        (await RunAsync("credits", "grant", "--account", name, "--amount", "25")).AssertSucceeded();
        var domain = $"ledger-{Guid.NewGuid():N}"[..20] + ".com";
        await App.ImportDirectoryAsync(new DirectoryRow("Grace", "Hopper", domain, null, "+12025550143"));
        var accountId = (await App.Service<PeopleEnrich.Accounts.AccountStore>().ListAsync(CancellationToken.None)).Single(a => a.Name == name).Id;
        var key = (await RunAsync("keys", "create", "--account", name)).AssertSucceeded().OutputLines[0].Split(": ")[1];
        using var client = App.Client(key);
        var account = new TestAccount(accountId, key, client);

        // Grace's number is found (10 charged); Nobody's is not (10 released).
        var requestId = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Grace", "Hopper", domain, null, Phones), Query("No", "Body", domain, null, Phones) } });
        Assert.Equal("COMPLETED", (await account.WaitForCompletionAsync(requestId))["status"]!.GetValue<string>());

        var history = (await RunAsync("credits", "history", "--account", name)).AssertSucceeded();
        var rows = history.OutputLines.Where(line => line.Contains("GRANT", StringComparison.Ordinal) || line.Contains("SETTLE", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, rows.Count);
        Assert.All(rows.Take(2), row => Assert.Contains(requestId, row));
        Assert.Contains(rows.Take(2), row => Cells(row)[1..4].SequenceEqual(["SETTLE", "-10", ""]) && Cells(row)[5] == "0");
        Assert.Contains(rows.Take(2), row => Cells(row)[1..4].SequenceEqual(["SETTLE", "0", "10"]) && Cells(row)[5] == "1");
        Assert.Equal(["GRANT", "+25"], Cells(rows[2])[1..3]);
        Assert.Equal(["GRANT", "+100"], Cells(rows[3])[1..3]);
        Assert.Contains("4 entries, newest first.", history.OutputLines);

        var newest = (await RunAsync("credits", "history", "--account", accountId, "--limit", "1")).AssertSucceeded();
        Assert.Single(newest.OutputLines, line => line.Contains("SETTLE", StringComparison.Ordinal));
        Assert.DoesNotContain(newest.OutputLines, line => line.Contains("GRANT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_account_or_a_bad_limit_is_a_one_line_error()
    {
        Assert.Contains("No account with id or name 'nobody-at-all'", (await RunAsync("credits", "history", "--account", "nobody-at-all")).AssertFailedWithError());
        Assert.Contains("--limit", (await RunAsync("credits", "history", "--account", "default", "--limit", "0")).AssertFailedWithError());
    }
}

public sealed class SqliteCreditsHistoryTests(AppFixture<Sqlite> fixture) : CreditsHistoryTests<Sqlite>(fixture);

public sealed class PostgresCreditsHistoryTests(AppFixture<Postgres> fixture) : CreditsHistoryTests<Postgres>(fixture);
