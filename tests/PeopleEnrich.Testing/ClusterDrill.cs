using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using PeopleEnrich.MailWorld;
using World = PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Testing;

/// <summary>What a <see cref="ClusterDrill"/> runs: the deployment, the work and the chaos.</summary>
public sealed record ClusterDrillOptions
{
    /// <summary>A server as the caller starts it (app, log file, PID file); the drill adds settings, role and folder.</summary>
    public required ServerOptions Server { get; init; }

    /// <summary>An empty PostgreSQL database of the drill's own.</summary>
    public required string PostgresConnectionString { get; init; }

    public int Workers { get; init; } = 3;

    public int Items { get; init; } = 300;

    public int Batches { get; init; } = 3;

    /// <summary>How many times a random worker is killed with SIGKILL (and started again) during the run.</summary>
    public int Kills { get; init; }

    public int Domains { get; init; } = 30;

    /// <summary>The world's delay before every SMTP reply.</summary>
    public int ReplyDelayMs { get; init; }

    public int Concurrency { get; init; } = 16;

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The whole run's limit: past it the drill fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    public int Seed { get; init; } = 2026;

    /// <summary>Settings on top of the drill's own (e.g. Smtp:MaxSessionsPerHost).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
}

/// <summary>One SIGKILL: when, which worker, and the items it held at that moment.</summary>
public sealed record WorkerKill(DateTimeOffset At, int Worker, string Owner, IReadOnlyList<(string BatchId, long Idx)> Held);

/// <summary>What a drill measured, read from the shared database and the API after the last item completed.</summary>
public sealed record ClusterDrillReport
{
    public required int Items { get; init; }
    public required int Workers { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required long Completed { get; init; }
    public required long SettleEntries { get; init; }
    public required long ItemsSettledOnce { get; init; }
    public required long UsedCredits { get; init; }
    public required long ReservedCredits { get; init; }
    public required long ChargedOnItems { get; init; }
    public required long ChargedInLedger { get; init; }
    public required long FoundInResults { get; init; }
    public required long Takeovers { get; init; }
    public required long TakenBackAtRestart { get; init; }
    public required IReadOnlyList<WorkerKill> Kills { get; init; }

    /// <summary>For each item a killed worker held: from its kill to the item's completion.</summary>
    public required IReadOnlyList<TimeSpan> KillToCompletion { get; init; }

    /// <summary>The most sessions any mail host of the world had open at once, and that host.</summary>
    public required (string Host, int Sessions) PeakSessions { get; init; }

    public double ItemsPerSecond => Items / Elapsed.TotalSeconds;

    public TimeSpan MaxKillToCompletion => KillToCompletion.DefaultIfEmpty().Max();

    public TimeSpan MedianKillToCompletion
    {
        get
        {
            var sorted = KillToCompletion.Order().ToArray();
            return sorted.Length == 0 ? TimeSpan.Zero
                : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }
}

/// <summary>
/// One api process and N worker processes (<c>--role</c>) on one PostgreSQL against a simulated world whose
/// every person has a mailbox: the items are submitted in batches through the api, a random worker is killed
/// with SIGKILL (and started again in its folder, so under its own name) each time another share of the items
/// completed, and when the last item completed the ledger, the leases and the kills' aftermath are read back.
/// Shared by the chaos test (short) and the cluster bench (chaos in full, and scaling with no kills).
/// </summary>
public sealed partial class ClusterDrill
{
    private const string Key = "pe_cluster_drill_key_0123456789ab";

    public static async Task<ClusterDrillReport> RunAsync(ClusterDrillOptions options, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var token = timeout.Token;
        var random = new Random(options.Seed);
        var people = People(options);
        await using var world = await World.StartAsync(Describe(options, people));
        await using var db = NpgsqlDataSource.Create(options.PostgresConnectionString);
        var settings = Settings(options, world);

        var servers = new List<ServerProcess>();
        try
        {
            // The api first: it creates the account, and the workers wait for nothing.
            var api = await ServerProcess.StartAsync(Options(options, settings, "api"), token);
            servers.Add(api);
            var workers = await Task.WhenAll(Enumerable.Range(0, options.Workers).Select(_ => ServerProcess.StartAsync(Options(options, settings, "worker"), token)));
            servers.AddRange(workers);
            var owners = new string[workers.Length];
            for (var i = 0; i < workers.Length; i++)
            {
                owners[i] = await OwnerOfAsync(workers[i], token);
            }

            using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(120) };
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
            var clock = Stopwatch.StartNew();
            var requestIds = new List<string>();
            foreach (var batch in people.Chunk((people.Count + options.Batches - 1) / options.Batches))
            {
                requestIds.Add(await SubmitAsync(http, batch, token));
            }

            var kills = new List<WorkerKill>();
            var takenBack = 0L;
            for (var k = 0; k < options.Kills; k++)
            {
                // Spread over the run: the next kill once another share of the items completed.
                var due = (long)options.Items * (k + 1) / (options.Kills + 1);
                await WaitUntilAsync(async () => await CompletedAsync(db, token) >= due, token);
                // A restart under load can take longer than a share of the work: kills after the last item test nothing.
                if (await CompletedAsync(db, token) == options.Items)
                {
                    break;
                }

                // A kill that takes nothing down tests nothing: a random one of the workers holding items at this moment
                // (in a fast world an item is held for milliseconds, so a worker picked blindly often holds none).
                var (victim, held) = await VictimAsync(db, owners, random, token);
                await workers[victim].KillAsync();
                kills.Add(new WorkerKill(DateTimeOffset.UtcNow, victim, owners[victim], held));
                await workers[victim].RestartAsync(token);
                var startLine = await workers[victim].WaitForLineAsync("Workers started as", cancellationToken: token);
                // Its name is normally its previous life's; whatever it is, the next kill looks for what it holds under it.
                owners[victim] = OwnerLine().Match(startLine).Groups["owner"].Value;
                if (TakenBackLine().Match(startLine) is { Success: true } match)
                {
                    takenBack += long.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture);
                }
            }

            await WaitUntilAsync(async () => await CompletedAsync(db, token) == options.Items, token);
            var elapsed = clock.Elapsed;
            var found = 0L;
            foreach (var requestId in requestIds)
            {
                found += FoundIn(await BatchAsync(http, requestId, token));
            }

            return await ReportAsync(db, options, world, elapsed, kills, takenBack, found, token);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Letters only (the finder guesses addresses from names): a, b, …, z, ba, bb, ….</summary>
    private static string Letters(int n)
    {
        var text = "";
        do
        {
            text = (char)('a' + n % 26) + text;
            n /= 26;
        }
        while (n > 0);
        return text;
    }

    private static List<(string First, string Last, string Domain)> People(ClusterDrillOptions options) =>
        [.. Enumerable.Range(0, options.Items).Select(i => ($"ann{Letters(i / options.Domains)}", $"smith{Letters(i % options.Domains)}", $"d{i % options.Domains}.test"))];

    private static WorldDescription Describe(ClusterDrillOptions options, List<(string First, string Last, string Domain)> people) => new()
    {
        Domains = [.. Enumerable.Range(0, options.Domains).Select(d => new DomainDescription
        {
            Name = $"d{d}.test",
            Mx = [new MxDescription { Host = $"mx.d{d}.test" }],
            ReplyDelayMs = options.ReplyDelayMs,
            Mailboxes = [.. people.Where(p => p.Domain == $"d{d}.test").Select(p => $"{p.First}.{p.Last}")],
        })],
    };

    private static Dictionary<string, string?> Settings(ClusterDrillOptions options, World world)
    {
        var settings = WorldSettings.For(world);
        settings["ConnectionStrings:Postgres"] = options.PostgresConnectionString;
        settings["Bootstrap:ApiKey"] = Key;
        settings["Bootstrap:Credits"] = "10000000";
        settings["RateLimit:PermitsPerSecond"] = "100000";
        settings["Workers:Concurrency"] = options.Concurrency.ToString(CultureInfo.InvariantCulture);
        settings["Workers:LeaseDuration"] = options.LeaseDuration.ToString("c", CultureInfo.InvariantCulture);
        settings["Workers:HeartbeatInterval"] = options.HeartbeatInterval.ToString("c", CultureInfo.InvariantCulture);
        // The cluster's shared claims (session slots, lanes) of a killed worker outlive it by this much.
        settings["Cluster:LeaseTtl"] = options.LeaseDuration.ToString("c", CultureInfo.InvariantCulture);
        foreach (var (key, value) in options.Settings)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static ServerOptions Options(ClusterDrillOptions options, Dictionary<string, string?> settings, string role)
    {
        var all = new Dictionary<string, string?>(options.Server.Settings);
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return options.Server with { Settings = all, Arguments = [.. options.Server.Arguments, "--role", role], WorkingDirectory = null };
    }

    private static async Task<string> OwnerOfAsync(ServerProcess server, CancellationToken token) =>
        OwnerLine().Match(await server.WaitForLineAsync("Workers started as", cancellationToken: token)).Groups["owner"].Value;

    private static async Task<string> SubmitAsync(HttpClient http, IEnumerable<(string First, string Last, string Domain)> batch, CancellationToken token)
    {
        var body = new JsonObject
        {
            ["requests"] = new JsonArray([.. batch.Select(p => (JsonNode)new JsonObject
            {
                ["firstname"] = p.First,
                ["lastname"] = p.Last,
                ["domain"] = p.Domain,
                ["enrich_fields"] = new JsonArray("contact.emails"),
            })]),
        };
        using var response = await http.PostAsync("/api/v2/people/enrich", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), token);
        var text = await response.Content.ReadAsStringAsync(token);
        return response.StatusCode == System.Net.HttpStatusCode.Accepted
            ? JsonNode.Parse(text)!["request_id"]!.GetValue<string>()
            : throw new InvalidOperationException($"The batch was refused ({(int)response.StatusCode}): {text}");
    }

    private static async Task<JsonNode> BatchAsync(HttpClient http, string requestId, CancellationToken token) =>
        (await http.GetFromJsonAsync<JsonNode>($"/api/v2/people/enrich/{requestId}", token))!;

    /// <summary>Results with a deliverable address: what the account was charged for.</summary>
    private static long FoundIn(JsonNode batch) =>
        batch["results"]!.AsArray().Count(r => r?["emails"] is JsonArray emails && emails.Any(e => e?["status"]?.GetValue<string>() == "DELIVERABLE"));

    private static async Task<long> CompletedAsync(NpgsqlDataSource db, CancellationToken token) =>
        await ScalarAsync(db, "SELECT COUNT(*) FROM items WHERE completed_at IS NOT NULL", token);

    private static async Task<List<(string BatchId, long Idx)>> HeldByAsync(NpgsqlDataSource db, string owner, CancellationToken token)
    {
        await using var command = db.CreateCommand("SELECT batch_id, idx FROM items WHERE status = 'PROCESSING' AND lease_owner = $1");
        command.Parameters.AddWithValue(owner);
        await using var reader = await command.ExecuteReaderAsync(token);
        var held = new List<(string, long)>();
        while (await reader.ReadAsync(token))
        {
            held.Add((reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)));
        }

        return held;
    }

    /// <summary>A random worker among those that hold items (any worker if none does within 10 s), and what it holds.</summary>
    private static async Task<(int Worker, List<(string BatchId, long Idx)> Held)> VictimAsync(
        NpgsqlDataSource db, string[] owners, Random random, CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var holding = new List<(int, List<(string, long)>)>();
            for (var i = 0; i < owners.Length; i++)
            {
                if (await HeldByAsync(db, owners[i], token) is { Count: > 0 } held)
                {
                    holding.Add((i, held));
                }
            }

            if (holding.Count > 0)
            {
                return holding[random.Next(holding.Count)];
            }

            if (DateTime.UtcNow >= deadline)
            {
                return (random.Next(owners.Length), []);
            }

            await Task.Delay(20, token);
        }
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql, CancellationToken token)
    {
        await using var command = db.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(token) is { } value and not DBNull ? value : 0L, CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken token, TimeSpan? atMost = null)
    {
        var deadline = atMost is { } limit ? DateTime.UtcNow + limit : DateTime.MaxValue;
        while (!await condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, token);
        }
    }

    private static async Task<ClusterDrillReport> ReportAsync(
        NpgsqlDataSource db, ClusterDrillOptions options, World world, TimeSpan elapsed, List<WorkerKill> kills, long takenBack, long found, CancellationToken token)
    {
        var killToCompletion = new List<TimeSpan>();
        foreach (var kill in kills)
        {
            foreach (var (batchId, idx) in kill.Held)
            {
                await using var command = db.CreateCommand("SELECT completed_at FROM items WHERE batch_id = $1 AND idx = $2");
                command.Parameters.AddWithValue(batchId);
                command.Parameters.AddWithValue((int)idx);
                var completedAt = Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
                killToCompletion.Add(DateTimeOffset.FromUnixTimeMilliseconds(completedAt) - kill.At);
            }
        }

        var peak = world.Hosts.Select(h => (h.Name, h.PeakActiveSessions)).MaxBy(h => h.PeakActiveSessions);
        return new ClusterDrillReport
        {
            Items = options.Items,
            Workers = options.Workers,
            Elapsed = elapsed,
            Completed = await CompletedAsync(db, token),
            SettleEntries = await ScalarAsync(db, "SELECT COUNT(*) FROM credit_entries WHERE kind = 'SETTLE'", token),
            ItemsSettledOnce = await ScalarAsync(db, "SELECT COUNT(*) FROM (SELECT batch_id, item_idx FROM credit_entries WHERE kind = 'SETTLE' GROUP BY batch_id, item_idx HAVING COUNT(*) = 1) once", token),
            UsedCredits = await ScalarAsync(db, "SELECT SUM(used_credits) FROM accounts", token),
            ReservedCredits = await ScalarAsync(db, "SELECT SUM(reserved_credits) FROM accounts", token),
            ChargedOnItems = await ScalarAsync(db, "SELECT SUM(charged_credits) FROM items", token),
            ChargedInLedger = await ScalarAsync(db, "SELECT SUM(charged) FROM credit_entries WHERE kind = 'SETTLE'", token),
            FoundInResults = found,
            Takeovers = await ScalarAsync(db, "SELECT SUM(takeovers) FROM items", token),
            TakenBackAtRestart = takenBack,
            Kills = kills,
            KillToCompletion = killToCompletion,
            PeakSessions = peak,
        };
    }

    [GeneratedRegex(@"Workers started as (?<owner>\S+) with")]
    private static partial Regex OwnerLine();

    [GeneratedRegex(@"(?<count>\d+) items? of this worker's previous run taken back")]
    private static partial Regex TakenBackLine();
}
