using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Cluster;

/// <summary>
/// Wake-ups between processes on PostgreSQL (LISTEN/NOTIFY): a NOTIFY committed through one process's connections wakes
/// another's listener; a rolled-back one wakes nobody; the listener holds a connection of its own, not the pool's; a
/// listening connection that goes silent is found out by its keepalive and listening starts again; and an item queued
/// through an api process is claimed by an idle worker process at once, not at its next poll.
/// </summary>
public sealed class DatabaseWakeupsTests : IAsyncLifetime
{
    private const string Key = "pe_wakeups_test_key_0123456789ab";
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync(Postgres.Name);

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_committed_notify_wakes_the_other_process_and_a_rolled_back_one_does_not()
    {
        await using var listening = Process();
        await using var notifying = Process();
        var wakeups = new DatabaseWakeups(listening, TimeProvider.System, NullLogger<DatabaseWakeups>.Instance);
        var woken = Channel.CreateUnbounded<string>();
        wakeups.On("test_a", () => woken.Writer.TryWrite("a"));
        wakeups.On("test_b", () => woken.Writer.TryWrite("b"));
        await wakeups.StartAsync(CancellationToken.None);
        try
        {
            // Once listening, every channel is woken once (what was queued before is looked for).
            Assert.Equal(["a", "b"], (await ReadAsync(woken, 2)).Order());

            // The listener's connection is its own, not the pool's: the pool's one connection is free, and listens to nothing.
            await using (var pooled = await listening.OpenAsync(CancellationToken.None))
            {
                Assert.Empty(await pooled.QueryAsync<string>("SELECT pg_listening_channels()"));
            }

            await Assert.ThrowsAsync<InvalidOperationException>(() => notifying.InTransactionAsync<int>(async (connection, transaction) =>
            {
                await notifying.NotifyAsync(connection, transaction, "test_a", CancellationToken.None);
                throw new InvalidOperationException("rolled back");
            }, CancellationToken.None));
            await notifying.InTransactionAsync(async (connection, transaction) =>
            {
                await notifying.NotifyAsync(connection, transaction, "test_b", CancellationToken.None);
                return 0;
            }, CancellationToken.None);

            // Notifications arrive in commit order: b came, and a (rolled back) before it did not.
            Assert.Equal(["b"], await ReadAsync(woken, 1));
            Assert.False(woken.Reader.TryRead(out var extra), $"woken for {extra}");
        }
        finally
        {
            await wakeups.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_listening_connection_gone_silent_is_found_out_by_its_keepalive_and_listening_starts_again()
    {
        var direct = new NpgsqlConnectionStringBuilder(_database.Settings["ConnectionStrings:Postgres"]);
        await using var relay = SilenceableRelay.Start(new IPEndPoint(IPAddress.Parse(direct.Host!), direct.Port));
        // Through the relay, with a keepalive after a second of silence rather than the listener's 30 s.
        await using var listening = Process(connection =>
        {
            connection.Port = relay.Port;
            connection.KeepAlive = 1;
        });
        await using var notifying = Process();
        var wakeups = new DatabaseWakeups(listening, TimeProvider.System, NullLogger<DatabaseWakeups>.Instance);
        var woken = Channel.CreateUnbounded<string>();
        wakeups.On("test_a", () => woken.Writer.TryWrite("a"));
        await wakeups.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(["a"], await ReadAsync(woken, 1));

            // The connection passes nothing more and is not closed: no error comes, only the keepalive's missing answer.
            relay.Silence();

            // Listening again, on a new connection, wakes the channel once, as any start of listening does; notifications come on it.
            Assert.Equal(["a"], await ReadAsync(woken, 1));
            await notifying.InTransactionAsync(async (connection, transaction) =>
            {
                await notifying.NotifyAsync(connection, transaction, "test_a", CancellationToken.None);
                return 0;
            }, CancellationToken.None);
            Assert.Equal(["a"], await ReadAsync(woken, 1));
        }
        finally
        {
            await wakeups.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_item_queued_through_the_api_process_is_claimed_by_an_idle_worker_process_at_once_not_at_its_next_poll()
    {
        await using var api = await StartAsync("api", new Dictionary<string, string?>());
        await using var worker = await StartAsync("worker", new Dictionary<string, string?>
        {
            // Past its back-off the worker would look again only in ten minutes: only the NOTIFY can wake it sooner.
            ["Workers:IdlePollInterval"] = "00:10:00",
            ["Logging:LogLevel:PeopleEnrich.Pipeline.Workers.EnrichmentWorkers"] = "Debug",
        });
        await worker.WaitForLineAsync("looking again in 00:10:00 unless woken", TimeSpan.FromMinutes(1));

        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
        using var response = await http.PostAsJsonAsync("/api/v2/people/enrich", new
        {
            requests = Enumerable.Range(0, 3).Select(i => new { firstname = "Woken", lastname = $"Person{i}", domain = "wakeups.example", enrich_fields = new[] { "contact.emails" } }).ToArray(),
        });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var requestId = (await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>();

        // A deadline well inside the ten minutes, not a speed: the batch is done only if the worker was woken.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        JsonNode batch;
        while ((batch = await PollAsync(http, requestId))["status"]!.GetValue<string>() == "PROCESSING")
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle worker process was not woken by the api process's NOTIFY:\n" + worker.Tail(20));
        }

        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        await using var data = Process();
        await using var connection = await data.OpenAsync(CancellationToken.None);
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM items WHERE batch_id = @requestId AND status = 'COMPLETED' AND attempts = 1", new { requestId })));
    }

    /// <summary>A connection pool of its own on the test database, as another process has, of one connection.</summary>
    private Database Process(Action<NpgsqlConnectionStringBuilder>? adjust = null)
    {
        var connection = new NpgsqlConnectionStringBuilder(_database.Settings["ConnectionStrings:Postgres"]) { MaxPoolSize = 1 };
        adjust?.Invoke(connection);
        return Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(_database.Settings)
        {
            ["ConnectionStrings:Postgres"] = connection.ConnectionString,
        }).Build());
    }

    private async Task<ServerProcess> StartAsync(string role, IReadOnlyDictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(settings)
        {
            ["Bootstrap:ApiKey"] = Key,
            ["RateLimit:PermitsPerSecond"] = "1000",
        };
        return await ProgramRunner.StartServerAsync(_database, all, arguments: ["--role", role]);
    }

    private static async Task<JsonNode> PollAsync(HttpClient http, string requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v2/people/enrich/{requestId}");
        request.Headers.TryAddWithoutValidation("Prefer", "wait=10");
        using var response = await http.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    private static async Task<List<string>> ReadAsync(Channel<string> woken, int count)
    {
        var read = new List<string>();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (read.Count < count)
        {
            read.Add(await woken.Reader.ReadAsync(patience.Token));
        }

        return read;
    }
}
