using PeopleEnrich.Admin.Audit;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ConsoleTable;

namespace PeopleEnrich.Tests.Admin;

/// <summary>
/// "Who did this?": every admin command that changes something, run as the operator runs it (the built program in a
/// child process), leaves an entry in the audit trail with its outcome; commands that only read leave none.
/// </summary>
public abstract class AuditTrailTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private Task<ProgramResult> RunAsync(params string[] args) => ProgramRunner.RunAsync(fixture.App.Database, args);

    [Fact]
    public async Task Each_change_is_listed_newest_first_with_who_ran_it_and_how_it_ended_and_reading_leaves_no_entry()
    {
        var name = "audited-" + Guid.NewGuid().ToString("N")[..10];
        (await RunAsync("accounts", "create", "--name", name, "--credits", "5")).AssertSucceeded();
        (await RunAsync("credits", "grant", "--account", name, "--amount", "7")).AssertSucceeded();
        (await RunAsync("credits", "grant", "--account", "nobody-" + name, "--amount", "7")).AssertFailedWithError();
        var key = (await RunAsync("keys", "create", "--account", name)).AssertSucceeded().OutputLines[0].Split(": ")[1];
        (await RunAsync("accounts", "list")).AssertSucceeded();
        (await RunAsync("credits", "history", "--account", name)).AssertSucceeded();

        var listed = (await RunAsync("audit", "list", "--limit", "4")).AssertSucceeded();

        var rows = listed.OutputLines.Where(line => line.Contains(name, StringComparison.Ordinal)).Select(Cells).ToList();
        Assert.Equal(
            [
                ("keys create", $"--account {name}", "ok"),
                ("credits grant", $"--account nobody-{name} --amount 7", "failed (exit code 1)"),
                ("credits grant", $"--account {name} --amount 7", "ok"),
                ("accounts create", $"--name {name} --credits 5", "ok"),
            ],
            rows.Select(cells => (cells[2], cells[3], cells[4])));
        Assert.All(rows, cells => Assert.Equal(Environment.UserName, cells[1]));
        Assert.Contains("4 entries, newest first.", listed.OutputLines);
        Assert.DoesNotContain(listed.OutputLines, line => line.Contains(key, StringComparison.Ordinal));
        Assert.Contains("--limit", (await RunAsync("audit", "list", "--limit", "0")).AssertFailedWithError());
    }
}

public sealed class SqliteAuditTrailTests(AppFixture<Sqlite> fixture) : AuditTrailTests<Sqlite>(fixture);

public sealed class PostgresAuditTrailTests(AppFixture<Postgres> fixture) : AuditTrailTests<Postgres>(fixture);

public sealed class AuditedArgumentsTests
{
    [Theory]
    [InlineData(new[] { "--account", "acme", "--amount", "7" }, "--account acme --amount 7")]
    [InlineData(new[] { "--url", "https://hooks.example.com/x", "--secret", "whsec_abc" }, "--url https://hooks.example.com/*** --secret ***")]
    [InlineData(new[] { "--url=https://hooks.example.com:8443/?token=abc" }, "--url=https://hooks.example.com:8443/***")]
    [InlineData(new[] { "--url", "https://hooks.example.com" }, "--url https://hooks.example.com")]
    [InlineData(new[] { "--url", "not a url with a token" }, "--url ***")]
    [InlineData(new[] { "--secret=whsec_abc", "--KEY", "pe_123" }, "--secret=*** --KEY ***")]
    [InlineData(new[] { "--company", "Engines Ltd", "--domain", "engines.com" }, "--company \"Engines Ltd\" --domain engines.com")]
    public void Secrets_are_masked_and_the_rest_kept_as_typed(string[] arguments, string kept) =>
        Assert.Equal(kept, AuditedArguments.Mask(arguments));

    [Fact]
    public void A_persons_identifiers_are_kept_only_as_fingerprints_that_the_same_identifier_reproduces()
    {
        var kept = AuditedArguments.Mask(["--person", "Ada King", "--domain", "engines.com", "--email=Ada@Engines.com", "--linkedin", "https://linkedin.com/in/ada"]);

        Assert.DoesNotContain("Ada", kept, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("linkedin.com/in/ada", kept, StringComparison.Ordinal);
        Assert.Equal(
            $"--person {AuditedArguments.Fingerprint("ada king")} --domain engines.com --email={AuditedArguments.Fingerprint("ada@engines.com")} --linkedin {AuditedArguments.Fingerprint("https://linkedin.com/in/ada")}",
            kept);
        Assert.Matches("^sha256:[0-9a-f]{12}$", AuditedArguments.Fingerprint("ada@engines.com"));
    }
}
