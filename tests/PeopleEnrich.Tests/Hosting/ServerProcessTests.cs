using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Hosting;

/// <summary>
/// The server as an operator runs it, in a process of its own (through <see cref="ServerProcess"/>,
/// which these tests also hold to its word: the address it reports, SIGTERM, stopped on dispose).
/// </summary>
public abstract class ServerProcessTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task The_server_started_as_a_process_on_a_database_prepared_by_the_admin_commands_serves_its_accounts_and_stops_on_SIGTERM()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is POSIX only.");
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        var created = (await ProgramRunner.RunAsync(database, "accounts", "create", "--name", "first", "--credits", "50", "--json")).AssertSucceeded();
        var apiKey = JsonNode.Parse(created.StandardOutput)!["api_key"]!.GetValue<string>();
        await using var server = await StartServerAsync(database);

        var address = server.Url;
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.Host)), address.ToString());
        using (var http = Client(address, apiKey))
        {
            using var credits = await http.GetAsync("/api/v2/credits");
            Assert.Equal(HttpStatusCode.OK, credits.StatusCode);
            Assert.Equal(50, JsonNode.Parse(await credits.Content.ReadAsStringAsync())!["credits"]![0]!["total_credits"]!.GetValue<long>());
        }

        // An account existed, so the first start created no 'default' account with the bootstrap key.
        using (var bootstrap = Client(address, TestApp.BootstrapKey))
        {
            await (await bootstrap.GetAsync("/api/v2/credits")).AssertUnauthorizedAsync("unknown or revoked");
        }

        Assert.Equal(0, await server.StopAsync());
        Assert.Contains(server.Lines, line => line.Contains("Application is shutting down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disposing_the_handle_stops_the_server_and_a_wait_that_runs_out_kills_it()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        int firstPid;
        await using (var first = await StartServerAsync(database))
        {
            firstPid = first.Pid;
        }

        Assert.True(HasEnded(firstPid), $"process {firstPid} still runs after its handle was disposed");

        await using var second = await StartServerAsync(database);
        await Assert.ThrowsAsync<TimeoutException>(() => second.WaitForExitAsync(TimeSpan.FromMilliseconds(300)));
        await second.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(second.HasExited);
    }

    /// <remarks>A SIGTERM is given a minute, as an operator's service manager would.</remarks>
    private static Task<ServerProcess> StartServerAsync(TestDatabase database) =>
        ProgramRunner.StartServerAsync(database, new Dictionary<string, string?> { ["Bootstrap:ApiKey"] = TestApp.BootstrapKey }, stopTimeout: TimeSpan.FromSeconds(60));

    private static HttpClient Client(Uri address, string apiKey)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", apiKey);
        return http;
    }

    private static bool HasEnded(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process any more
        }
    }
}

public sealed class SqliteServerProcessTests : ServerProcessTests<Sqlite>;

public sealed class PostgresServerProcessTests : ServerProcessTests<Postgres>;
