using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Hosting;

/// <summary>
/// The server's roles (<c>--role all|api|worker</c>) as child processes on one database, and the start-ups it
/// refuses in one line with exit code 1: a role SQLite cannot have, an address another process listens on.
/// </summary>
public abstract class RoleTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Key = "pe_role_test_key_0123456789abcdef";

    /// <summary>Roles other than all need PostgreSQL: run by <see cref="PostgresRoleTests"/> only.</summary>
    protected async Task Api_and_worker_processes_share_the_work()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build());
        await using var api = await StartAsync(database, "api");
        using var http = Client(api.Url);
        var requestId = await SubmitAsync(http);

        // Nobody works: the batch is still waiting after a long poll, and no item was ever claimed.
        Assert.Equal("PROCESSING", (await PollAsync(http, requestId, wait: 2))["status"]!.GetValue<string>());
        Assert.Equal(0L, await ScalarAsync(data, "SELECT COUNT(*) FROM items WHERE attempts > 0 OR lease_owner IS NOT NULL"));
        Assert.DoesNotContain(api.Lines, line => line.Contains("Workers started", StringComparison.Ordinal));

        await using var worker = await StartAsync(database, "worker");
        using (var health = new HttpClient { BaseAddress = worker.Url })
        {
            Assert.Equal(HttpStatusCode.OK, (await health.GetAsync("/healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await health.GetAsync("/readyz")).StatusCode);
        }

        using (var workerHttp = Client(worker.Url))
        {
            foreach (var path in new[] { "/api/v2/credits", $"/api/v2/people/enrich/{requestId}", "/api/openapi.yaml", "/docs", "/", "/console.js", $"/api/v2/people/csv/{requestId}" })
            {
                Assert.Equal(HttpStatusCode.NotFound, (await workerHttp.GetAsync(path)).StatusCode);
            }

            using var post = await workerHttp.PostAsJsonAsync("/api/v2/people/enrich", Batch());
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddMinutes(2);
        JsonNode batch;
        while ((batch = await PollAsync(http, requestId, wait: 10))["status"]!.GetValue<string>() == "PROCESSING")
        {
            Assert.True(DateTime.UtcNow < deadline, "the worker process never finished the batch");
        }

        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        Assert.Equal(3, batch["results"]!.AsArray().Count(result => result!["status"]!.GetValue<string>() == "COMPLETED"));
        Assert.DoesNotContain(worker.Lines, line => line.Contains("Created account", StringComparison.Ordinal));
    }

    /// <summary>The refusal is SQLite's: run by <see cref="SqliteRoleTests"/> only.</summary>
    protected async Task SQLite_refuses_the_role_in_one_line(string role)
    {
        await using var database = await TestDatabase.CreateAsync(Sqlite.Name);
        var error = (await ProgramRunner.RunAsync(["--role", role, "--urls", "http://127.0.0.1:0"], ProgramRunner.EnvironmentFor(database))).AssertFailedWithError();
        Assert.Equal($"--role {role} needs PostgreSQL (ConnectionStrings:Postgres): SQLite is one process, which serves the API and runs the workers (--role all).", error);
    }

    [Fact]
    public async Task An_unknown_role_is_refused_in_one_line()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        var error = (await ProgramRunner.RunAsync(["--role", "workers", "--urls", "http://127.0.0.1:0"], ProgramRunner.EnvironmentFor(database))).AssertFailedWithError();
        Assert.Equal("--role must be all, api or worker, not 'workers'.", error);
    }

    [Fact]
    public async Task An_address_another_process_listens_on_is_one_line_and_exit_code_1_before_any_worker_starts()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var result = await ProgramRunner.RunAsync(["--urls", url], ProgramRunner.EnvironmentFor(database));

        Assert.True(result.ExitCode == 1, result.ToString());
        var error = Assert.Single(result.ErrorLines);
        Assert.Equal($"error: Failed to bind to address {url}: address already in use. Another process listens there: choose another address with --urls.", error);
        Assert.False((result.StandardOutput + result.StandardError).Contains("   at ", StringComparison.Ordinal), $"a stack trace: {result}");
        Assert.DoesNotContain("Workers started", result.StandardOutput, StringComparison.Ordinal);
    }

    private static Task<ServerProcess> StartAsync(TestDatabase database, string role) => ProgramRunner.StartServerAsync(database, new Dictionary<string, string?>
    {
        ["Bootstrap:ApiKey"] = Key,
        ["RateLimit:PermitsPerSecond"] = "1000",
    }, arguments: ["--role", role]);

    private static object Batch() => new
    {
        requests = Enumerable.Range(0, 3).Select(i => new
        {
            firstname = "Role",
            lastname = $"Person{i}",
            domain = "roles.example",
            enrich_fields = new[] { "contact.emails" },
        }).ToArray(),
    };

    private static async Task<string> SubmitAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/api/v2/people/enrich", Batch());
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>();
    }

    private static async Task<JsonNode> PollAsync(HttpClient http, string requestId, int wait)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v2/people/enrich/{requestId}");
        request.Headers.TryAddWithoutValidation("Prefer", $"wait={wait}");
        using var response = await http.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    private static HttpClient Client(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
        return http;
    }

    private static async Task<long> ScalarAsync(Database database, string sql) =>
        Convert.ToInt64((await DatabaseDump.RowsAsync(database, sql)).Single().Values.Single(), CultureInfo.InvariantCulture);
}

public sealed class SqliteRoleTests : RoleTests<Sqlite>
{
    [Theory]
    [InlineData("worker")]
    [InlineData("api")]
    public Task SQLite_refuses_any_role_but_all_in_one_line(string role) => SQLite_refuses_the_role_in_one_line(role);
}

public sealed class PostgresRoleTests : RoleTests<Postgres>
{
    [Fact]
    public Task An_api_process_runs_no_workers_and_a_worker_process_serves_only_its_health_and_does_the_work() =>
        Api_and_worker_processes_share_the_work();
}
