using System.CommandLine;
using System.Globalization;
using PeopleEnrich.Testing;

namespace PeopleEnrich.ClusterBench;

/// <summary>
/// The cluster on PostgreSQL, measured with <see cref="ClusterDrill"/>: one api process and N worker processes
/// (Release build) against a simulated world in this process, each run on a fresh database created here.
/// <c>--scenario chaos</c>: a random worker killed with SIGKILL --kills times during the run; the figures say
/// whether every item completed and was charged exactly once, and how long a killed worker's items took.
/// <c>--scenario scaling</c>: no kills, one run per --workers value; items per second and the peak sessions
/// at any mail host against Smtp:MaxSessionsPerHost.
/// </summary>
internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        var server = new BenchServerOptions();
        server.ServerDll.Required = true;
        var scenario = new Option<string>("--scenario") { Description = "chaos or scaling", Required = true };
        scenario.AcceptOnlyFromAmong("chaos", "scaling");
        var postgres = new Option<string>("--postgres") { Description = "A PostgreSQL server's connection string (the bench creates a database per run there)", Required = true };
        var workers = new Option<string>("--workers") { Description = "Worker processes; for scaling a comma-separated list", DefaultValueFactory = _ => "3" };
        var items = BenchCommandLine.WholeNumber("--items", "People enriched in a run", 2000, 1, 100000);
        var batches = BenchCommandLine.WholeNumber("--batches", "Batches they are submitted in", 20, 1, 1000);
        var kills = BenchCommandLine.WholeNumber("--kills", "SIGKILLs of a random worker (chaos)", 20, 0, 1000);
        var domains = BenchCommandLine.WholeNumber("--domains", "Domains in the world", 200, 1, 10000);
        var replyDelay = BenchCommandLine.WholeNumber("--reply-delay-ms", "Delay before every SMTP reply", 0, 0, 5000);
        var concurrency = BenchCommandLine.WholeNumber("--concurrency", "Workers:Concurrency of each worker process", 32, 1, 1000);
        var limited = BenchCommandLine.WholeNumber("--limited-concurrency",
            "Scaling: a second (LIMITED) series with this Workers:Concurrency per worker process, so that workers wait on I/O rather than share the CPU (0: none)", 4, 0, 1000);
        var sessions = BenchCommandLine.WholeNumber("--max-sessions-per-host", "Smtp:MaxSessionsPerHost", 2, 1, 100);
        var lease = BenchCommandLine.WholeNumber("--lease-seconds", "Workers:LeaseDuration (the heartbeat is a third of it)", 30, 3, 3600);
        var restartAfter = BenchCommandLine.WholeNumber("--restart-after-seconds", "How long a killed worker stays dead (chaos; beyond a lease, others take its items over)", 0, 0, 3600);
        // Past PostgreSQL's statistics lag (its counters reach pg_stat_database up to ~10 s late), or the measured window holds the run's tail.
        var idle = BenchCommandLine.WholeNumber("--idle-seconds", "After the run, seconds the idle processes are watched (scaling; twice: settle, measure)", 15, 0, 600);
        var timeout = BenchCommandLine.WholeNumber("--timeout", "Seconds one run may take", 900, 1, 86400);
        var root = BenchCommandLine.Root("PeopleEnrich cluster bench (chaos, scaling) on PostgreSQL", server,
            scenario, postgres, workers, items, batches, kills, domains, replyDelay, concurrency, limited, sessions, lease, restartAfter, idle, timeout);
        root.SetAction(async (parsed, token) =>
        {
            var isChaos = parsed.GetValue(scenario) == "chaos";
            var counts = parsed.GetValue(workers)!.Split(',').Select(w => int.Parse(w, NumberStyles.None, CultureInfo.InvariantCulture)).ToList();
            var leaseDuration = TimeSpan.FromSeconds(parsed.GetValue(lease));
            var template = new ClusterDrillOptions
            {
                // A start may take long on a busy machine; a run that gives up on one measures nothing.
                Server = server.From(parsed) with { StopTimeout = TimeSpan.FromSeconds(30), StartTimeout = TimeSpan.FromMinutes(3) },
                PostgresConnectionString = "",
                Items = parsed.GetValue(items),
                Batches = parsed.GetValue(batches),
                Kills = isChaos ? parsed.GetValue(kills) : 0,
                RestartDelay = TimeSpan.FromSeconds(parsed.GetValue(restartAfter)),
                IdleWindow = isChaos ? TimeSpan.Zero : TimeSpan.FromSeconds(parsed.GetValue(idle)),
                Domains = parsed.GetValue(domains),
                ReplyDelayMs = parsed.GetValue(replyDelay),
                Concurrency = parsed.GetValue(concurrency),
                LeaseDuration = leaseDuration,
                HeartbeatInterval = leaseDuration / 3,
                Timeout = TimeSpan.FromSeconds(parsed.GetValue(timeout)),
                Settings = new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = parsed.GetValue(sessions).ToString(CultureInfo.InvariantCulture) },
            };
            Console.WriteLine($"== load average at start: {LoadAverage()}");
            Console.WriteLine($"== {parsed.GetValue(scenario)}: {template.Items} people at {template.Domains} domains in {template.Batches} batches, "
                + $"{template.ReplyDelayMs} ms per SMTP reply, concurrency {template.Concurrency}, MaxSessionsPerHost {parsed.GetValue(sessions)}, "
                + $"lease {leaseDuration.TotalSeconds:0} s, {Environment.ProcessorCount} cores");
            // Scaling: the full series, then the LIMITED one, where few items in flight per worker leave the CPU idle and the
            // run is bound by the world's replies, as a deployment with a core per worker would be.
            var series = isChaos || parsed.GetValue(limited) == 0 ? [template.Concurrency] : new[] { template.Concurrency, parsed.GetValue(limited) };
            var reports = new List<ClusterDrillReport>();
            foreach (var perWorker in series)
            {
                var ofSeries = new List<ClusterDrillReport>();
                foreach (var count in counts)
                {
                    var database = await FreshDatabase.CreateAsync(parsed.GetValue(postgres)!, "pe_cluster_bench", token);
                    var report = await ClusterDrill.RunAsync(template with { Workers = count, Concurrency = perWorker, PostgresConnectionString = database }, token);
                    ofSeries.Add(report);
                    Console.Write(perWorker == template.Concurrency ? "" : "LIMITED ");
                    Print(report, parsed.GetValue(sessions));
                }

                if (!isChaos)
                {
                    Console.WriteLine();
                    Console.WriteLine(perWorker == template.Concurrency ? $"== concurrency {perWorker} per worker" : $"== LIMITED: concurrency {perWorker} per worker");
                    PrintScalingTable(ofSeries, parsed.GetValue(sessions));
                }

                reports.AddRange(ofSeries);
            }

            Console.WriteLine($"== load average at end: {LoadAverage()}");

            var exact = reports.All(r => r.Completed == r.Items && r.ItemsSettledOnce == r.Items && r.SettleEntries == r.Items
                && r.UsedCredits == r.ChargedInLedger && r.ChargedInLedger == r.FoundInResults && r.ReservedCredits == 0);
            var polite = reports.All(r => r.PeakSessions.Sessions <= parsed.GetValue(sessions));
            // A drill that made fewer kills than asked tested less than it says.
            var killed = reports.All(r => r.Kills.Count == r.KillsAsked);
            return exact && polite && killed ? 0 : 1;
        });
        return BenchCommandLine.InvokeAsync(root, args);
    }

    private static void Print(ClusterDrillReport r, int maxSessions)
    {
        Console.WriteLine($"-- {r.Workers} worker process(es): {r.Items} items in {r.Elapsed.TotalSeconds:0.0} s = {r.ItemsPerSecond:0.0} items/s");
        Console.WriteLine($"   completed {r.Completed}/{r.Items}; settled exactly once {r.ItemsSettledOnce}/{r.Items} ({r.SettleEntries} settle entries)");
        Console.WriteLine($"   charged: used_credits {r.UsedCredits}, ledger {r.ChargedInLedger}, items {r.ChargedOnItems}, found in results {r.FoundInResults}; reserved left {r.ReservedCredits}");
        Console.WriteLine($"   peak sessions at one mail host {r.PeakSessions.Sessions} ({r.PeakSessions.Host}), limit {maxSessions}: {(r.PeakSessions.Sessions <= maxSessions ? "held" : "EXCEEDED")}");
        if (r.KillsAsked > 0)
        {
            Console.WriteLine($"   kills made {r.Kills.Count} of {r.KillsAsked} asked{(r.Kills.Count < r.KillsAsked ? " (FEWER: the run ended first)" : "")}; items held by the killed worker {r.KillToCompletion.Count} (per kill: {string.Join(' ', r.Kills.Select(k => k.Held.Count))})");
            Console.WriteLine($"   take-over per kill (kill -> the last of its items claimed again): {Spread(r.TakeOverPerKill)}");
            Console.WriteLine($"   restart -> first claim (the process's start to its first claim, in its own log): {Spread(r.RestartToFirstClaim)}; {r.Kills.Count - r.RestartToFirstClaim.Count} restart(s) claimed nothing before the run ended");
            var metBar = r.KilledItems.Count(k => k.MetBar(r.Lease));
            Console.WriteLine($"   the bar (claimed again within a lease, {r.Lease.TotalSeconds:0} s, of the kill: completed within a lease plus its own work): {metBar} of {r.KilledItems.Count} items{(r.BarMetByAll ? ", met by all" : ", NOT MET by all")}");
            Console.WriteLine($"   kill -> completion of the killed worker's items: median {r.MedianKillToCompletion.TotalSeconds:0.0} s, max {r.MaxKillToCompletion.TotalSeconds:0.0} s");
            Console.WriteLine($"   lease take-overs {r.Takeovers}; taken back at restart {r.TakenBackAtRestart}");
            Console.WriteLine($"   kill -> restarted worker started again: {Spread(r.Kills.Where(k => k.RestartedAt is not null).Select(k => k.RestartedAt!.Value - k.At))}");
            foreach (var (label, bySelf) in new[] { ("its restarted self", (bool?)true), ("another worker", false), ("unseen (claimed and settled between two looks)", null) })
            {
                var items = r.KilledItems.Where(k => k.ByRestartedSelf == bySelf).ToList();
                if (items.Count > 0)
                {
                    Console.WriteLine($"   {items.Count} items claimed again by {label}: kill -> claimed {Spread(items.Where(k => k.ClaimedAgainAfter is not null).Select(k => k.ClaimedAgainAfter!.Value))}; kill -> completed {Spread(items.Select(k => k.CompletedAfter))}");
                }
            }
        }

        if (r.Cost is { } cost)
        {
            Console.WriteLine($"   CPU ms per item: workers {PerItem(cost.WorkersCpu, r)}, api {PerItem(cost.ApiCpu, r)}, PostgreSQL {(cost.PostgresCpu is { } pg ? PerItem(pg, r) : "n/a")}, world and drill {PerItem(cost.DrillCpu, r)}");
            if (cost.PostgresTransactions is { } transactions)
            {
                Console.WriteLine($"   PostgreSQL transactions per item {transactions / r.Items:0.0}; idle: {cost.IdleWorkerCpuPerSecond * 1000:0.0} CPU ms/s per worker process, {cost.IdlePostgresTransactionsPerSecond:0.0} transactions/s");
            }
        }
    }

    private static string PerItem(TimeSpan cpu, ClusterDrillReport r) => (cpu.TotalMilliseconds / r.Items).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Spread(IEnumerable<TimeSpan> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? "none"
            : $"median {ClusterDrillReport.Median(list).TotalSeconds:0.0} s, min {list.Min().TotalSeconds:0.0} s, max {list.Max().TotalSeconds:0.0} s ({list.Count})";
    }

    /// <summary>The figures of each configuration side by side, as a Markdown table for the README.</summary>
    private static void PrintScalingTable(List<ClusterDrillReport> reports, int maxSessions)
    {
        Console.WriteLine("== summary (Markdown)");
        Console.WriteLine("| worker processes | wall time | items/s | over 1 worker | CPU ms/item: workers | api | PostgreSQL | world | PG transactions/item | idle worker CPU ms/s | idle PG transactions/s | most sessions at one host (limit " + maxSessions + ") |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in reports)
        {
            var cost = r.Cost;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Workers} | {r.Elapsed.TotalSeconds:0.0} s | {r.ItemsPerSecond:0.0} | {r.ItemsPerSecond / reports[0].ItemsPerSecond:0.00}× | "
                + $"{(cost is null ? "" : PerItem(cost.WorkersCpu, r))} | {(cost is null ? "" : PerItem(cost.ApiCpu, r))} | "
                + $"{(cost?.PostgresCpu is { } pg ? PerItem(pg, r) : "n/a")} | {(cost is null ? "" : PerItem(cost.DrillCpu, r))} | "
                + $"{(cost?.PostgresTransactions is { } t ? (t / r.Items).ToString("0.0", CultureInfo.InvariantCulture) : "")} | "
                + $"{(cost?.IdleWorkerCpuPerSecond is { } c ? (c * 1000).ToString("0.0", CultureInfo.InvariantCulture) : "")} | "
                + $"{(cost?.IdlePostgresTransactionsPerSecond is { } i ? i.ToString("0.0", CultureInfo.InvariantCulture) : "")} | "
                + $"{r.PeakSessions.Sessions}: {(r.PeakSessions.Sessions <= maxSessions ? "held" : "EXCEEDED")} |"));
        }

        Console.WriteLine("(CPU: user + system seconds from the first submission to the last completion, over the items; \"world\" is the bench's process, the simulated world and the drill.)");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
