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

    /// <summary>How long a killed worker stays dead before it starts again: beyond a lease, the other workers take its items over.</summary>
    public TimeSpan RestartDelay { get; init; }

    /// <summary>
    /// After the last item: how long the processes are watched idle, with an empty queue (their CPU and the database's
    /// transactions), twice: the first window lets the database's statistics catch up, the second is measured. Zero: not at all.
    /// </summary>
    public TimeSpan IdleWindow { get; init; }

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

/// <summary>An item a worker held when it was killed, and the attempt it was on.</summary>
public sealed record HeldItem(string BatchId, long Idx, long Attempts);

/// <summary>One SIGKILL: when, which worker, and the items it held at that moment.</summary>
public sealed record WorkerKill(DateTimeOffset At, int Worker, string Owner, IReadOnlyList<HeldItem> Held)
{
    /// <summary>When the drill read the worker's next life saying its workers started.</summary>
    public DateTimeOffset? RestartedAt { get; set; }

    /// <summary>
    /// From the start of the worker's next process to its first claim, in that process's own words ("First items
    /// claimed: N, T ms after the process started"); null when it claimed nothing before the run ended.
    /// </summary>
    public TimeSpan? RestartToFirstClaim { get; set; }
}

/// <summary>What became of one item a killed worker held: when it was claimed again and by whom, and when it completed.</summary>
public sealed record KilledItem(WorkerKill Kill, HeldItem Item, TimeSpan? ClaimedAgainAfter, bool? ByRestartedSelf, TimeSpan CompletedAfter)
{
    /// <summary>
    /// The issue's bar: completed within a lease plus its own work after its worker died, i.e. claimed again within a
    /// lease of the kill. The drill sees a claim at its next look (100 ms apart, later on a busy machine), and one
    /// claimed and settled between two looks when it sees it settled: late, never early, so the bar is never met by
    /// mistake.
    /// </summary>
    public bool MetBar(TimeSpan lease) => ClaimedAgainAfter is { } claimed && claimed <= lease;
}

/// <summary>CPU seconds and database transactions a run cost, and what the idle processes cost a second afterwards.</summary>
public sealed record ClusterCost
{
    /// <summary>All worker processes together, from the first submission to the last completion.</summary>
    public required TimeSpan WorkersCpu { get; init; }

    public required TimeSpan ApiCpu { get; init; }

    /// <summary>The PostgreSQL server (backends and its own processes); null when not readable.</summary>
    public TimeSpan? PostgresCpu { get; init; }

    /// <summary>The process running the drill: the simulated world, and the drill's own polling.</summary>
    public required TimeSpan DrillCpu { get; init; }

    /// <summary>Committed and rolled back transactions in the run's database, the drill's own queries left out; null without an idle window.</summary>
    public double? PostgresTransactions { get; init; }

    /// <summary>CPU seconds a second of one idle worker process (an empty queue: claim polling, heartbeats); null without an idle window.</summary>
    public double? IdleWorkerCpuPerSecond { get; init; }

    /// <summary>Database transactions a second while every process is idle; null without an idle window.</summary>
    public double? IdlePostgresTransactionsPerSecond { get; init; }
}

/// <summary>What a drill measured, read from the shared database and the API after the last item completed.</summary>
public sealed record ClusterDrillReport
{
    public required int Items { get; init; }
    public required int Workers { get; init; }
    public required int KillsAsked { get; init; }
    public required TimeSpan Lease { get; init; }
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

    /// <summary>Each item a killed worker held: when it was claimed again, by whom, and when it completed.</summary>
    public required IReadOnlyList<KilledItem> KilledItems { get; init; }

    /// <summary>What the run cost in CPU and database transactions; null when workers were killed (a killed process's CPU is lost).</summary>
    public ClusterCost? Cost { get; init; }

    /// <summary>The most sessions any mail host of the world had open at once, and that host.</summary>
    public required (string Host, int Sessions) PeakSessions { get; init; }

    public double ItemsPerSecond => Items / Elapsed.TotalSeconds;

    public TimeSpan MaxKillToCompletion => KillToCompletion.DefaultIfEmpty().Max();

    public TimeSpan MedianKillToCompletion => Median(KillToCompletion);

    /// <summary>For each kill that took items down: from the SIGKILL until the last of its items was claimed again (by anyone).</summary>
    public IReadOnlyList<TimeSpan> TakeOverPerKill => [.. KilledItems.GroupBy(k => k.Kill)
        .Select(kill => kill.Max(k => k.ClaimedAgainAfter ?? k.CompletedAfter))];

    /// <summary>For each restart that claimed anything before the run ended: from its process's start to its first claim.</summary>
    public IReadOnlyList<TimeSpan> RestartToFirstClaim => [.. Kills.Select(k => k.RestartToFirstClaim).OfType<TimeSpan>()];

    /// <summary>Every item a killed worker held was claimed again within a lease of the kill.</summary>
    public bool BarMetByAll => KilledItems.All(k => k.MetBar(Lease));

    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? TimeSpan.Zero
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
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
        await using var source = NpgsqlDataSource.Create(options.PostgresConnectionString);
        var db = new DrillDatabase(source);
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
            var before = await CostSnapshot.TakeAsync(db, api, workers, token);
            var clock = Stopwatch.StartNew();
            var requestIds = new List<string>();
            foreach (var batch in people.Chunk((people.Count + options.Batches - 1) / options.Batches))
            {
                requestIds.Add(await SubmitAsync(http, batch, token));
            }

            var kills = new List<WorkerKill>();
            var aftermath = new List<Task<Dictionary<HeldItem, (TimeSpan After, bool? BySelf)>>>();
            var restarts = new List<Task>();
            var dead = new bool[workers.Length];
            using var runDone = CancellationTokenSource.CreateLinkedTokenSource(token);
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

                // The last living worker is never killed: with none left, nothing would be taken over, only restarted.
                await WaitUntilAsync(async () => Living(dead) >= 2 || await CompletedAsync(db, token) == options.Items, token);
                if (await CompletedAsync(db, token) == options.Items)
                {
                    break;
                }

                // A kill that takes nothing down tests nothing: a random one of the workers holding items at this moment
                // (in a fast world an item is held for milliseconds, so a worker picked blindly often holds none).
                var (victim, _) = await VictimAsync(db, owners, dead, random, token);

                var killedAt = DateTimeOffset.UtcNow;
                await workers[victim].KillAsync();
                // What it held when it died: items it settled between the pick and the kill (seconds on a busy machine) are no orphans.
                var kill = new WorkerKill(killedAt, victim, owners[victim], await HeldByAsync(db, owners[victim], token));
                kills.Add(kill);
                aftermath.Add(WatchAsync(db, kill, token));
                Volatile.Write(ref dead[victim], true);
                // In the background: the next kill is due at its share of the work, not when this worker is back.
                restarts.Add(RestartAndRecordAsync(victim, kill));
            }

            await WaitUntilAsync(async () => await CompletedAsync(db, token) == options.Items, token);
            var elapsed = clock.Elapsed;
            // A worker started again after the last item has nothing to claim: its first claim is not waited for.
            await runDone.CancelAsync();

            async Task RestartAndRecordAsync(int victim, WorkerKill kill)
            {
                var line = await RestartAsync(workers[victim], kill, options, token);
                // Its name is normally its previous life's; whatever it is, the next kill looks for what it holds under it.
                owners[victim] = OwnerLine().Match(line).Groups["owner"].Value;
                if (TakenBackLine().Match(line) is { Success: true } match)
                {
                    Interlocked.Add(ref takenBack, long.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture));
                }

                Volatile.Write(ref dead[victim], false);
                kill.RestartToFirstClaim = await FirstClaimAsync(workers[victim], runDone.Token);
            }

            var after = await CostSnapshot.TakeAsync(db, api, workers, token);
            var cost = kills.Count == 0 ? await CostAsync(db, api, workers, before, after, options.IdleWindow, token) : null;
            await Task.WhenAll(restarts);
            var claimedAgain = (await Task.WhenAll(aftermath)).ToList();
            var found = 0L;
            foreach (var requestId in requestIds)
            {
                found += FoundIn(await BatchAsync(http, requestId, token));
            }

            return await ReportAsync(db, options, world, elapsed, kills, claimedAgain, takenBack, found, cost, token);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts a killed worker again after the drill's restart delay; the line it says its workers started with.</summary>
    private static async Task<string> RestartAsync(ServerProcess worker, WorkerKill kill, ClusterDrillOptions options, CancellationToken token)
    {
        if (options.RestartDelay > TimeSpan.Zero)
        {
            await Task.Delay(options.RestartDelay, token);
        }

        await worker.RestartAsync(token);
        var line = await worker.WaitForLineAsync("Workers started as", options.Server.StartTimeout, token);
        kill.RestartedAt = DateTimeOffset.UtcNow;
        return line;
    }

    /// <summary>From the process's start to its first claim, as its "First items claimed" line says; null when the run ended first, or the process did.</summary>
    private static async Task<TimeSpan?> FirstClaimAsync(ServerProcess worker, CancellationToken runDone)
    {
        try
        {
            var line = await worker.WaitForLineAsync("First items claimed", Timeout.InfiniteTimeSpan, runDone);
            return FirstClaimLine().Match(line) is { Success: true } match
                ? TimeSpan.FromMilliseconds(long.Parse(match.Groups["ms"].Value, CultureInfo.InvariantCulture))
                : null;
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException)
        {
            return null;
        }
    }

    private static int Living(bool[] dead) => Enumerable.Range(0, dead.Length).Count(i => !Volatile.Read(ref dead[i]));

    /// <summary>
    /// Watches the items a killed worker held until each is claimed again (its attempt counter moves on) or completed:
    /// when, and whether by the worker's next life (its own name on the lease) or by another worker.
    /// </summary>
    private static async Task<Dictionary<HeldItem, (TimeSpan After, bool? BySelf)>> WatchAsync(DrillDatabase db, WorkerKill kill, CancellationToken token)
    {
        var seen = new Dictionary<HeldItem, (TimeSpan, bool?)>();
        var batches = kill.Held.Select(h => h.BatchId).Distinct().ToArray();
        while (seen.Count < kill.Held.Count)
        {
            await using (var command = db.Command("SELECT batch_id, idx, attempts, lease_owner, completed_at FROM items WHERE batch_id = ANY($1)"))
            {
                command.Parameters.AddWithValue(batches);
                await using var reader = await command.ExecuteReaderAsync(token);
                var rows = new Dictionary<(string, long), (long Attempts, string? Owner, bool Completed)>();
                while (await reader.ReadAsync(token))
                {
                    rows[(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture))] =
                        (Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), reader.IsDBNull(3) ? null : reader.GetString(3), !reader.IsDBNull(4));
                }

                var now = DateTimeOffset.UtcNow - kill.At;
                foreach (var item in kill.Held.Where(h => !seen.ContainsKey(h)))
                {
                    var row = rows[(item.BatchId, item.Idx)];
                    if (row.Attempts > item.Attempts && row.Owner is { } owner)
                    {
                        seen[item] = (now, owner == kill.Owner);
                    }
                    else if (row.Completed || row.Attempts > item.Attempts)
                    {
                        seen[item] = (now, null); // claimed and settled between two looks: by whom is not known
                    }
                }
            }

            await Task.Delay(100, token);
        }

        return seen;
    }

    /// <summary>The run's cost from the snapshots around it; then, with an idle window, what the idle processes cost.</summary>
    private static async Task<ClusterCost> CostAsync(
        DrillDatabase db, ServerProcess api, ServerProcess[] workers, CostSnapshot before, CostSnapshot after, TimeSpan idleWindow, CancellationToken token)
    {
        var cost = new ClusterCost
        {
            WorkersCpu = after.Workers - before.Workers,
            ApiCpu = after.Api - before.Api,
            PostgresCpu = after.Postgres - before.Postgres,
            DrillCpu = after.Drill - before.Drill,
        };
        if (idleWindow <= TimeSpan.Zero)
        {
            return cost;
        }

        // The database's statistics lag a little behind its transactions: the first window lets them catch up.
        await Task.Delay(idleWindow, token);
        var settled = await CostSnapshot.TakeAsync(db, api, workers, token);
        var clock = Stopwatch.StartNew();
        await Task.Delay(idleWindow, token);
        var idle = await CostSnapshot.TakeAsync(db, api, workers, token);
        var seconds = clock.Elapsed.TotalSeconds;
        var idleTransactions = (idle.Transactions - settled.Transactions) / seconds;
        return cost with
        {
            PostgresTransactions = settled.Transactions - before.Transactions - idleTransactions * (settled.At - after.At).TotalSeconds,
            IdleWorkerCpuPerSecond = (idle.Workers - settled.Workers).TotalSeconds / seconds / workers.Length,
            IdlePostgresTransactionsPerSecond = idleTransactions,
        };
    }

    /// <summary>CPU so far of each part, and the run's database's transactions so far (the drill's own queries left out).</summary>
    private sealed record CostSnapshot(DateTimeOffset At, TimeSpan Api, TimeSpan Workers, TimeSpan? Postgres, TimeSpan Drill, double Transactions)
    {
        public static async Task<CostSnapshot> TakeAsync(DrillDatabase db, ServerProcess api, ServerProcess[] workers, CancellationToken token)
        {
            var transactions = await ScalarAsync(db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", token);
            using var self = Process.GetCurrentProcess();
            return new CostSnapshot(
                DateTimeOffset.UtcNow,
                CpuTime.Of(api.Pid) ?? TimeSpan.Zero,
                workers.Aggregate(TimeSpan.Zero, (sum, worker) => sum + (CpuTime.Of(worker.Pid) ?? TimeSpan.Zero)),
                CpuTime.OfPostgres(new NpgsqlConnectionStringBuilder(db.ConnectionString).Port),
                self.TotalProcessorTime,
                transactions - Interlocked.Read(ref db.Queries));
        }
    }

    /// <summary>The drill's own connection to the run's database, counting its queries (each one transaction) to leave them out of the run's.</summary>
    private sealed class DrillDatabase(NpgsqlDataSource source)
    {
        public long Queries;

        public string ConnectionString => source.ConnectionString;

        public NpgsqlCommand Command(string sql)
        {
            Interlocked.Increment(ref Queries);
            return source.CreateCommand(sql);
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
        // Each kill counts as an attempt of the items it took down, and one item can be taken down again and again.
        settings["Workers:MaxAttempts"] = (options.Kills + 5).ToString(CultureInfo.InvariantCulture);
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

    private static async Task<long> CompletedAsync(DrillDatabase db, CancellationToken token) =>
        await ScalarAsync(db, "SELECT COUNT(*) FROM items WHERE completed_at IS NOT NULL", token);

    private static async Task<List<HeldItem>> HeldByAsync(DrillDatabase db, string owner, CancellationToken token)
    {
        await using var command = db.Command("SELECT batch_id, idx, attempts FROM items WHERE status = 'PROCESSING' AND lease_owner = $1");
        command.Parameters.AddWithValue(owner);
        await using var reader = await command.ExecuteReaderAsync(token);
        var held = new List<HeldItem>();
        while (await reader.ReadAsync(token))
        {
            held.Add(new HeldItem(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)));
        }

        return held;
    }

    /// <summary>
    /// A random living worker among those that hold items (any living worker if none does within 10 s), and what it
    /// holds. The caller makes sure that at least two live.
    /// </summary>
    private static async Task<(int Worker, List<HeldItem> Held)> VictimAsync(
        DrillDatabase db, string[] owners, bool[] dead, Random random, CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var living = Enumerable.Range(0, owners.Length).Where(i => !Volatile.Read(ref dead[i])).ToList();

            var holding = new List<(int, List<HeldItem>)>();
            foreach (var i in living)
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
                return (living[random.Next(living.Count)], []);
            }

            await Task.Delay(20, token);
        }
    }

    private static async Task<long> ScalarAsync(DrillDatabase db, string sql, CancellationToken token)
    {
        await using var command = db.Command(sql);
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
        DrillDatabase db, ClusterDrillOptions options, World world, TimeSpan elapsed, List<WorkerKill> kills,
        List<Dictionary<HeldItem, (TimeSpan After, bool? BySelf)>> claimedAgain, long takenBack, long found, ClusterCost? cost, CancellationToken token)
    {
        var killedItems = new List<KilledItem>();
        foreach (var (kill, claims) in kills.Zip(claimedAgain))
        {
            foreach (var item in kill.Held)
            {
                await using var command = db.Command("SELECT completed_at FROM items WHERE batch_id = $1 AND idx = $2");
                command.Parameters.AddWithValue(item.BatchId);
                command.Parameters.AddWithValue((int)item.Idx);
                var completedAt = Convert.ToInt64(await command.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
                var claim = claims.TryGetValue(item, out var seen) ? seen : ((TimeSpan?)null, (bool?)null);
                killedItems.Add(new KilledItem(kill, item, claim.Item1, claim.Item2, DateTimeOffset.FromUnixTimeMilliseconds(completedAt) - kill.At));
            }
        }

        var peak = world.Hosts.Select(h => (h.Name, h.PeakActiveSessions)).MaxBy(h => h.PeakActiveSessions);
        return new ClusterDrillReport
        {
            Items = options.Items,
            Workers = options.Workers,
            KillsAsked = options.Kills,
            Lease = options.LeaseDuration,
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
            KillToCompletion = [.. killedItems.Select(k => k.CompletedAfter)],
            KilledItems = killedItems,
            Cost = cost,
            PeakSessions = peak,
        };
    }

    [GeneratedRegex(@"Workers started as (?<owner>\S+) with")]
    private static partial Regex OwnerLine();

    [GeneratedRegex(@"(?<count>\d+) items? of this worker's previous run taken back")]
    private static partial Regex TakenBackLine();

    [GeneratedRegex(@"First items claimed: \d+, (?<ms>\d+) ms after the process started")]
    private static partial Regex FirstClaimLine();
}
