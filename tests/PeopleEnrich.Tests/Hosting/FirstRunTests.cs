using Npgsql;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Hosting;

/// <summary>What a newcomer meets, through the built program as a child process: the help, and what the server says at start.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_lists_every_command_with_its_options_and_starts_no_server(string asked)
    {
        var folder = Directory.CreateTempSubdirectory("pe-help-");
        try
        {
            var run = (await ProgramRunner.RunAsync([asked], workingDirectory: folder.FullName, timeout: TimeSpan.FromSeconds(60))).AssertSucceeded();

            foreach (var expected in new[]
            {
                "enrich <INPUT.csv> [options]", "--dry-run", "--fields emails,phones", "--key KEY",
                "accounts create [options]", "--name VALUE", "keys revoke <KEY_PREFIX>", "credits grant [options]",
                "directory import <FILE.csv>", "doctor [options]", "--urls URL", "--role",
            })
            {
                Assert.True(run.StandardOutput.Contains(expected, StringComparison.Ordinal), $"'{expected}' missing from:\n{run.StandardOutput}");
            }

            Assert.DoesNotContain("Now listening", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
            // Nothing was opened: no database appeared where the user ran it.
            Assert.Empty(folder.EnumerateFileSystemInfos("*", SearchOption.AllDirectories));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

public abstract class StartMessageTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task The_server_says_where_its_database_is_and_that_a_later_bootstrap_key_was_not_used()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        const string firstKey = "pe_first_start_key_0123456789abcd";
        const string laterKey = "pe_later_start_key_0123456789abcd";
        await using (var first = await ProgramRunner.StartServerAsync(database, new Dictionary<string, string?> { ["Bootstrap:ApiKey"] = firstKey }))
        {
            Assert.DoesNotContain(first.Lines, line => line.Contains("was not used", StringComparison.Ordinal));
            AssertSaysWhere(first.Lines, database);
            Assert.Equal(0, await first.StopAsync());
        }

        await using var later = await ProgramRunner.StartServerAsync(database, new Dictionary<string, string?> { ["Bootstrap:ApiKey"] = laterKey });
        var line = await later.WaitForLineAsync("Bootstrap:ApiKey is set but was not used");
        Assert.Contains("accounts already exist", line, StringComparison.Ordinal);
        Assert.DoesNotContain(later.Lines, l => l.Contains(laterKey, StringComparison.Ordinal) || l.Contains(firstKey, StringComparison.Ordinal));
        AssertSaysWhere(later.Lines, database);
    }

    private static void AssertSaysWhere(IReadOnlyList<string> lines, TestDatabase database)
    {
        var all = string.Join('\n', lines);
        switch (database)
        {
            case SqliteTestDatabase sqlite:
                Assert.True(Path.IsPathFullyQualified(sqlite.Path));
                Assert.Contains($"SQLite {sqlite.Path}", all, StringComparison.Ordinal);
                break;
            case PostgresTestDatabase postgres:
                var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
                Assert.Contains($"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}", all, StringComparison.Ordinal);
                if (builder.Password is { Length: > 0 } password)
                {
                    Assert.DoesNotContain(password, all, StringComparison.Ordinal);
                }

                break;
            default:
                throw new InvalidOperationException(database.Provider);
        }
    }
}

public sealed class SqliteStartMessageTests : StartMessageTests<Sqlite>;

public sealed class PostgresStartMessageTests : StartMessageTests<Postgres>;
