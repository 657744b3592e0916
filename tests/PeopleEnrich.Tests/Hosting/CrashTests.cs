using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Hosting;

/// <summary>
/// The server as a child process, killed with SIGKILL while items are in flight, then restarted on the
/// same database: nothing accepted is lost, every item is settled exactly once, and the credits add up.
/// </summary>
public abstract class CrashTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Key = "pe_crash_test_key_0123456789abcdef";
    private const int Batches = 3;
    private const int PerBatch = 100;
    private const long Credits = 100_000;

    [Fact]
    public async Task A_server_killed_mid_batch_loses_nothing_and_settles_every_item_exactly_once()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Open(database);
        await ImportPhonesAsync(database);

        var requestIds = new List<string>();
        await using var server = await StartServerAsync(database);
        using (var http = Client(server.Url))
        {
            for (var b = 0; b < Batches; b++)
            {
                using var response = await http.PostAsJsonAsync("/api/v2/people/enrich", Batch(b));
                Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
                requestIds.Add((await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>());
            }
        }

        await server.KillAsync();

        // The precondition that makes this a crash test: the kill left work unfinished.
        var unfinished = await ScalarAsync(data, "SELECT COUNT(*) FROM items WHERE status = 'PROCESSING'");
        Assert.True(unfinished > 0, "every item was settled before the kill; the test did not crash anything in flight");
        Assert.Equal(Batches * PerBatch, await ScalarAsync(data, "SELECT COUNT(*) FROM items"));

        var held = await ScalarAsync(data, "SELECT COUNT(*) FROM items WHERE status = 'PROCESSING' AND lease_owner IS NOT NULL");

        await server.RestartAsync();
        // Started again in the same folder, it is the same worker, and takes back exactly what it held when killed.
        Assert.Contains($"; {held} items of this worker's previous run taken back", await server.WaitForLineAsync("of this worker's previous run taken back"));
        using (var http = Client(server.Url))
        {
            foreach (var id in requestIds)
            {
                var batch = await ServerBatches.WaitForCompletionAsync(http, id, TimeSpan.FromMinutes(2));
                Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
                foreach (var result in batch["results"]!.AsArray())
                {
                    Assert.Equal("COMPLETED", result!["status"]!.GetValue<string>());
                    Assert.Single(result["phones"]!.AsArray()); // a retried item never duplicates a phone
                }
            }

            var credits = (await http.GetFromJsonAsync<JsonNode>("/api/v2/credits"))!["credits"]![0]!;
            Assert.Equal(Batches * PerBatch * 10, credits["used_credits"]!.GetValue<long>());
            Assert.Equal(Credits - (Batches * PerBatch * 10), credits["remaining_credits"]!.GetValue<long>());
        }

        // The ledger: one settlement per item, and the account's totals are exactly their sum.
        Assert.Equal(Batches * PerBatch, await ScalarAsync(data, "SELECT COUNT(*) FROM credit_entries WHERE kind = 'SETTLE'"));
        Assert.Equal(await ScalarAsync(data, "SELECT SUM(charged) FROM credit_entries"), await ScalarAsync(data, "SELECT used_credits FROM accounts"));
        Assert.Equal(await ScalarAsync(data, "SELECT SUM(charged_credits) FROM items"), await ScalarAsync(data, "SELECT used_credits FROM accounts"));
        Assert.Equal(0, await ScalarAsync(data, "SELECT reserved_credits FROM accounts"));
    }

    [Fact]
    public async Task Two_server_processes_on_one_database_share_the_work_and_settle_each_item_once()
    {
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Open(database);
        await ImportPhonesAsync(database);

        await using var first = await StartServerAsync(database);
        using var firstHttp = Client(first.Url);
        await using var second = await StartServerAsync(database);
        using var secondHttp = Client(second.Url);

        // Each batch is submitted to one server; both servers' workers claim from the one queue.
        var requestIds = new List<string>();
        for (var b = 0; b < Batches; b++)
        {
            using var response = await (b % 2 == 0 ? firstHttp : secondHttp).PostAsJsonAsync("/api/v2/people/enrich", Batch(b));
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
            requestIds.Add((await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>());
        }

        foreach (var id in requestIds)
        {
            Assert.Equal("COMPLETED", (await ServerBatches.WaitForCompletionAsync(secondHttp, id, TimeSpan.FromMinutes(2)))["status"]!.GetValue<string>());
        }

        Assert.Equal(Batches * PerBatch, await ScalarAsync(data, "SELECT COUNT(*) FROM credit_entries WHERE kind = 'SETTLE'"));
        Assert.Equal(Batches * PerBatch * 10, await ScalarAsync(data, "SELECT used_credits FROM accounts"));
        Assert.Equal(0, await ScalarAsync(data, "SELECT reserved_credits FROM accounts"));
    }

    private static Task<ServerProcess> StartServerAsync(TestDatabase database) => ProgramRunner.StartServerAsync(database, new Dictionary<string, string?>
    {
        ["Bootstrap:ApiKey"] = Key,
        ["Bootstrap:Credits"] = Credits.ToString(CultureInfo.InvariantCulture),
        ["RateLimit:PermitsPerSecond"] = "1000",
        ["Workers:Concurrency"] = "2",
        // Leases longer than the test's every wait: the killed server's items can only come back because the
        // server started again takes its previous run's items back at once.
        ["Workers:LeaseDuration"] = "00:30:00",
        ["Workers:HeartbeatInterval"] = "00:00:01",
    });

    private static async Task ImportPhonesAsync(TestDatabase database)
    {
        var csv = new StringBuilder("firstname,lastname,domain,phone\n");
        for (var b = 0; b < Batches; b++)
        {
            for (var i = 0; i < PerBatch; i++)
            {
                // Ofcom's drama range: valid UK numbers that belong to nobody.
                csv.Append(CultureInfo.InvariantCulture, $"Crash{b},Person{i},crash-{b}.co.uk,020 7946 {b * PerBatch + i:0000}\n");
            }
        }

        var folder = Directory.CreateTempSubdirectory("peopleenrich-crash-");
        try
        {
            var file = Path.Combine(folder.FullName, "contacts.csv");
            await File.WriteAllTextAsync(file, csv.ToString());
            (await ProgramRunner.RunAsync(database, "directory", "import", file)).AssertSucceeded();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static object Batch(int b) => new
    {
        requests = Enumerable.Range(0, PerBatch).Select(i => new
        {
            firstname = $"Crash{b}",
            lastname = $"Person{i}",
            domain = $"crash-{b}.co.uk",
            enrich_fields = new[] { "contact.emails", "contact.phones" },
        }).ToArray(),
    };

    private static HttpClient Client(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
        return http;
    }

    private static Database Open(TestDatabase database) =>
        Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build());

    private static async Task<long> ScalarAsync(Database database, string sql) =>
        Convert.ToInt64((await DatabaseDump.RowsAsync(database, sql)).Single().Values.Single(), CultureInfo.InvariantCulture);
}

public sealed class SqliteCrashTests : CrashTests<Sqlite>;

public sealed class PostgresCrashTests : CrashTests<Postgres>;
