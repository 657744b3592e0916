extern alias SimulatedWorld;

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Hosting;

/// <summary>
/// What a crash or a stop costs, with servers as child processes asking a simulated world whose mail servers
/// answer slowly, so that items are in flight when a process dies or is stopped: a dead worker's items go to
/// another within a lease, a stopped one finishes or hands back its items at once (their attempts not
/// counted) and says goodbye to every mail server; nothing is lost or charged twice.
/// </summary>
public abstract partial class RecoveryTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Key = "pe_recovery_test_key_0123456789ab";
    private const int Domains = 6;
    private const int PerDomain = 4;
    private const int Items = Domains * PerDomain;

    /// <summary>Every reply a third of a second late: a person takes a couple of seconds, so a process always holds some.</summary>
    private static readonly WorldDescription SlowWorld = new()
    {
        Domains = Enumerable.Range(0, Domains).Select(d => new DomainDescription
        {
            Name = $"slow{d}.test",
            Mx = [new MxDescription { Host = $"mx.slow{d}.test" }],
            ReplyDelayMs = 300,
            Mailboxes = Enumerable.Range(0, PerDomain).Select(p => $"{FirstName(p)}.{LastName(d)}").ToList(),
        }).ToList(),
    };

    [Fact]
    public async Task SIGTERM_finishes_or_hands_back_the_items_in_flight_without_counting_their_attempts_and_every_SMTP_session_ends_with_QUIT()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is POSIX only.");
        await using var world = await World.StartAsync(SlowWorld);
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Open(database);
        await using var server = await StartServerAsync(database, world, new() { ["Workers:ShutdownGrace"] = "00:00:01" });
        using var http = Client(server.Url);
        var requestId = await SubmitAsync(http);
        await WaitUntilHeldAsync(data, await OwnerOfAsync(server));
        await WaitUntilAsync(() => world.Hosts.Any(host => host.ActiveSessions > 0), "no SMTP session was ever opened");

        Assert.Equal(0, await server.StopAsync());

        Assert.Contains(server.Lines, line => StoppingLine().IsMatch(line));
        Assert.Equal(0, await ScalarAsync(data, "SELECT COUNT(*) FROM items WHERE lease_owner IS NOT NULL"));
        var sessions = world.Hosts.SelectMany(host => host.Transcript.Sessions.Select(id => (host.Name, Lines: host.Transcript.Session(id)))).ToList();
        Assert.NotEmpty(sessions);
        Assert.All(sessions, session => Assert.True(
            session.Lines.LastOrDefault(line => line.Direction == Direction.Received)?.Text == "QUIT",
            $"a session with {session.Name} did not end with QUIT:\n{string.Join('\n', session.Lines)}"));

        await server.RestartAsync();
        using var again = Client(server.Url);
        await AssertAllFoundOnceAsync(again, data, requestId);
        // Handed back at the stop, an item's attempt was given back: each was found on its first counted attempt.
        Assert.Equal(1, await ScalarAsync(data, "SELECT MAX(attempts) FROM items"));
        Assert.Equal(0, await ScalarAsync(data, "SELECT SUM(takeovers) FROM items"));
    }

    [Fact]
    public async Task A_restarted_worker_releases_its_previous_life_s_shared_claims_at_start_so_its_items_wait_for_no_claim_TTL()
    {
        await using var world = await World.StartAsync(SlowWorld);
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Open(database);
        // Item leases and shared claims that outlast the test: only the restart itself can free them.
        var longLeases = new Dictionary<string, string?>
        {
            ["Cluster:LeaseTtl"] = "00:30:00",
            ["Workers:LeaseDuration"] = "00:30:00",
            ["Workers:HeartbeatInterval"] = "00:01:00",
        };
        await using var server = await StartServerAsync(database, world, longLeases);
        using var http = Client(server.Url);
        var requestId = await SubmitAsync(http);
        var owner = await OwnerOfAsync(server);
        await WaitUntilHeldAsync(data, owner);
        var claimsOfMember = $"SELECT holder FROM cluster_leases WHERE member = '{owner}'";
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await DatabaseDump.RowsAsync(data, claimsOfMember)).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{owner} never held a session slot or a domain's lane");
            await Task.Delay(20);
        }

        await server.KillAsync();
        var previousLife = (await DatabaseDump.RowsAsync(data, claimsOfMember)).Select(row => (string)row["holder"]!).ToHashSet();
        Assert.NotEmpty(previousLife); // the dead life's claims stay behind it: the precondition of this test

        await server.RestartAsync();
        var startLine = await server.WaitForLineAsync("Workers started as");

        Assert.Equal(owner, OwnerLine().Match(startLine).Groups["owner"].Value);
        var left = (await DatabaseDump.RowsAsync(data, "SELECT holder FROM cluster_leases")).Select(row => (string)row["holder"]!);
        Assert.DoesNotContain(left, previousLife.Contains);
        Assert.Matches(@"[1-9]\d* of its shared claims released", startLine);
        // How long the restart kept it from work, in its own words (the chaos drill reads these).
        Assert.Matches(@"with concurrency \d+, \d+ ms after the process started;", startLine);
        Assert.Matches(@"First items claimed: [1-9]\d*, \d+ ms after the process started", await server.WaitForLineAsync("First items claimed"));
        using var again = Client(server.Url);
        // Every item completes, those the dead life held included, while their old claims would have held for 30 minutes.
        await AssertAllFoundOnceAsync(again, data, requestId);
        Assert.Single(server.Lines, line => line.Contains("First items claimed", StringComparison.Ordinal));
        Assert.True(await ScalarAsync(data, "SELECT MAX(attempts) FROM items") >= 2, "no item of the dead life was taken back");
    }

    /// <summary>Several processes share PostgreSQL; SQLite is one process: run by <see cref="PostgresRecoveryTests"/> only.</summary>
    protected async Task Killed_worker_taken_over_by_the_other()
    {
        await using var world = await World.StartAsync(SlowWorld);
        await using var database = await TestDatabase.CreateAsync(TProvider.Name);
        await using var data = Open(database);
        // A short lease, so that the take-over happens within the test's waits.
        var shortLease = new Dictionary<string, string?> { ["Workers:LeaseDuration"] = "00:00:03", ["Workers:HeartbeatInterval"] = "00:00:01" };
        await using var doomed = await StartServerAsync(database, world, shortLease);
        await using var survivor = await StartServerAsync(database, world, shortLease);
        using var http = Client(survivor.Url);
        var requestId = await SubmitAsync(http);
        var doomedOwner = await OwnerOfAsync(doomed);
        await WaitUntilHeldAsync(data, doomedOwner);

        await doomed.KillAsync();
        var orphans = await KeysAsync(data, $"SELECT batch_id, idx FROM items WHERE status = 'PROCESSING' AND lease_owner = '{doomedOwner}'");
        Assert.NotEmpty(orphans); // the precondition that makes this a take-over test

        await AssertAllFoundOnceAsync(http, data, requestId);
        var takenOver = await KeysAsync(data, "SELECT batch_id, idx FROM items WHERE takeovers > 0");
        Assert.Empty(orphans.Except(takenOver));
        Assert.NotEqual(doomedOwner, await OwnerOfAsync(survivor));
    }

    private static Task<ServerProcess> StartServerAsync(TestDatabase database, World world, Dictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(WorldApp.SettingsFor(world))
        {
            ["Bootstrap:ApiKey"] = Key,
            ["Bootstrap:Credits"] = "10000",
            ["RateLimit:PermitsPerSecond"] = "1000",
            ["Workers:Concurrency"] = "4",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return ProgramRunner.StartServerAsync(database, all, stopTimeout: TimeSpan.FromSeconds(60));
    }

    private static async Task<string> SubmitAsync(HttpClient http)
    {
        // Domains interleaved, so that the first items claimed open sessions with several mail servers.
        var requests = Enumerable.Range(0, PerDomain).SelectMany(p => Enumerable.Range(0, Domains).Select(d => new
        {
            firstname = FirstName(p),
            lastname = LastName(d),
            domain = $"slow{d}.test",
            enrich_fields = new[] { "contact.emails" },
        })).ToArray();
        using var response = await http.PostAsJsonAsync("/api/v2/people/enrich", new { requests });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>();
    }

    /// <summary>The name a server's leases carry, as it said when its workers started.</summary>
    private static async Task<string> OwnerOfAsync(ServerProcess server) =>
        OwnerLine().Match(await server.WaitForLineAsync("Workers started as")).Groups["owner"].Value;

    private static async Task WaitUntilHeldAsync(Database data, string owner)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await ScalarAsync(data, $"SELECT COUNT(*) FROM items WHERE status = 'PROCESSING' AND lease_owner = '{owner}'") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{owner} never held an item");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    /// <summary>Every person found, each item settled once, and the ledger exact.</summary>
    private static async Task AssertAllFoundOnceAsync(HttpClient http, Database data, string requestId)
    {
        var batch = await ServerBatches.WaitForCompletionAsync(http, requestId, TimeSpan.FromMinutes(3));
        var results = batch["results"]!.AsArray();
        Assert.Equal(Items, results.Count);
        Assert.All(results, result =>
        {
            Assert.Equal("COMPLETED", result!["status"]!.GetValue<string>());
            Assert.Equal("DELIVERABLE", Assert.Single(result["emails"]!.AsArray())!["status"]!.GetValue<string>());
        });
        Assert.Equal(Items, await ScalarAsync(data, "SELECT COUNT(*) FROM credit_entries WHERE kind = 'SETTLE'"));
        Assert.Equal(Items, await ScalarAsync(data, "SELECT used_credits FROM accounts"));
        Assert.Equal(0, await ScalarAsync(data, "SELECT reserved_credits FROM accounts"));
    }

    private static string FirstName(int p) => new[] { "ada", "ben", "cleo", "dan" }[p];

    private static string LastName(int d) => $"slowman{(char)('a' + d)}";

    private static HttpClient Client(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
        return http;
    }

    private static Database Open(TestDatabase database) =>
        Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build());

    private static async Task<long> ScalarAsync(Database database, string sql) =>
        Convert.ToInt64((await DatabaseDump.RowsAsync(database, sql)).Single().Values.Single() ?? 0L, CultureInfo.InvariantCulture);

    private static async Task<HashSet<(string, long)>> KeysAsync(Database database, string sql) =>
        (await DatabaseDump.RowsAsync(database, sql)).Select(row => ((string)row["batch_id"]!, Convert.ToInt64(row["idx"], CultureInfo.InvariantCulture))).ToHashSet();

    [GeneratedRegex(@"Workers started as (?<owner>\S+) with")]
    private static partial Regex OwnerLine();

    [GeneratedRegex(@"Stopping: \d+ items in flight")]
    private static partial Regex StoppingLine();
}

public sealed class SqliteRecoveryTests : RecoveryTests<Sqlite>;

public sealed class PostgresRecoveryTests : RecoveryTests<Postgres>
{
    [Fact]
    public Task A_killed_worker_s_items_are_taken_over_by_the_other_process_after_one_lease_and_settled_once() => Killed_worker_taken_over_by_the_other();
}
