using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.MailWorld;
using PeopleEnrich.Testing;

namespace PeopleEnrich.FinderBench;

/// <summary>
/// How fast, and with how many RCPT commands, the real server finds the addresses of a batch of
/// people: a simulated mail world of 20 ordinary domains in this process (every SMTP reply delayed
/// 30 ms), the server's Release build as a child process pointed at it, a cold batch of 100 people
/// (no pattern known), a warm batch of 100 others at the same domains, the floor (one minimal
/// session done here over a raw socket) and the naive way (one address per session) for
/// comparison. Loopback only: every connection goes to 127.0.0.x.
/// </summary>
internal static partial class Program
{
    [System.Text.RegularExpressions.GeneratedRegex(@"with concurrency (\d+)")]
    private static partial System.Text.RegularExpressions.Regex EffectiveConcurrency();

    private const string EnrichPath = "/api/v2/people/enrich";
    internal const string ApiKey = "pe_finder_bench_key_0123456789abcdef";
    internal const string HeloName = "bench.peopleenrich.test";

    private static Task<int> Main(string[] args) => BenchCommandLine.InvokeAsync(Options.Command(RunBoundedAsync), args);

    /// <summary>Everything is bounded: past --timeout (or on Ctrl+C) the run is abandoned and its server stopped.</summary>
    private static async Task<int> RunBoundedAsync(Options options, CancellationToken interrupted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        try
        {
            return await RunAsync(options, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Console.Error.WriteLine($"error: the benchmark did not finish within {options.TimeoutSeconds} s (or was interrupted)");
            return 1;
        }
    }

    private static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var plan = options.Generated is { } generated
            ? GeneratedPlan.Build(generated)
            : WorldPlan.Build(options.Domains, options.PeoplePerDomain, options.ReplyDelayMs, options.Websites);
        if (options.GreylistBatch)
        {
            plan = GreylistBatch.AddTo(plan, options.PostgreySeconds, options.GreylistPattern, options.NoMailboxShare);
        }

        await using var world = await MailWorld.MailWorld.StartAsync(plan.Description, cancellationToken);
        Console.WriteLine(options.Generated is { } g
            ? $"world       {g.Domains} domains generated (seed {g.Seed}, real mail software, {g.NoMailbox:P0} of people without a mailbox, " +
              $"patterns {(g.RealisticPatterns ? "with real companies' shares" : "uniform")}, " +
              $"postgrey {g.PostgreySeconds} s), DNS {world.DnsEndPoint}, SMTP port {world.SmtpPort}"
            : $"world       {options.Domains} domains (1 MX each, behaviour normal, reply_delay_ms {options.ReplyDelayMs}), " +
              $"DNS {world.DnsEndPoint}, SMTP port {world.SmtpPort}");
        Console.WriteLine($"patterns    {string.Join(", ", plan.Domains.Select(d => $"{d.Name}={d.Pattern.Template()}" + (d.Scenario == "Normal" ? "" : $" ({d.Scenario})")))}");
        Console.WriteLine($"people      cold {plan.Cold.Count}{(plan.ColdBatches.Count > 1 ? $" in {plan.ColdBatches.Count} batches submitted at once" : "")} " +
                          $"({plan.Cold.Count(p => p.Address is not null)} with a mailbox), " +
                          $"warm {plan.Warm.Count} ({plan.Warm.Count(p => p.Address is not null)} with a mailbox)" +
                          (plan.Greylisted.Count > 0 ? $", greylisting batch {plan.Greylisted.Count} at {GreylistBatch.Domain} " +
                              $"({plan.Greylisted.Count(p => p.Address is not null)} with a mailbox, {options.GreylistPattern.Template()}, postgrey {options.PostgreySeconds} s)" : ""));
        if (plan.Greylisted.Count > 0 || options.Generated is not null)
        {
            Console.WriteLine($"schedule    Smtp:GreylistRetryAfter {string.Join(", ", options.GreylistSchedule.Select(s => $"{s} s"))}");
        }

        var floorMs = options.Generated is null ? await FloorAsync(options, world, plan, cancellationToken) : (double?)null;

        var results = new List<ConfigResult>();
        foreach (var concurrency in options.Concurrencies)
        {
            foreach (var processes in options.Processes)
            {
                // The greylisting triples the world keeps are the server's memory too: a second configuration must meet the
                // domain as the first did, its recipients never seen.
                world.ResetGreylist();
                results.Add(await RunConfigurationAsync(options, world, plan, concurrency, processes, floorMs, cancellationToken));
            }
        }

        NaiveResult? naive = null;
        if (options.Naive && options.Generated is null)
        {
            naive = await RunNaiveAsync(world, plan, cancellationToken);
        }

        PrintSummary(options, results, naive, floorMs);
        var broken = results.Any(r => !r.Cold.Completed || !r.Warm.Completed) || world.DataAttempts > 0;
        if (world.DataAttempts > 0)
        {
            Console.Error.WriteLine($"error: the world saw {world.DataAttempts} DATA/BDAT commands");
        }

        return broken ? 1 : 0;
    }

    /// <summary>The floor: the least a finder must do for one person, done here with nothing in between (the planned world only).</summary>
    private static async Task<double> FloorAsync(Options options, MailWorld.MailWorld world, WorldPlan plan, CancellationToken cancellationToken)
    {
        var floorHost = world.Host(plan.Domains[0].MxHost);
        var floorPerson = plan.Cold[0];
        var floors = new List<double>();
        for (var i = 0; i < options.FloorRepeats; i++)
        {
            floors.Add(await RawSmtp.MinimalSessionAsync(floorHost.EndPoint!, floorPerson.Address!, cancellationToken));
        }

        var floorMs = Stats.Median(floors);
        Console.WriteLine($"floor       {floorMs:F1} ms median of {floors.Count} minimal sessions at {floorHost.Name} " +
                          $"(banner, EHLO, MAIL FROM, RCPT probe, RCPT, QUIT; min {floors.Min():F1}, max {floors.Max():F1})");
        return floorMs;
    }

    private static async Task<ConfigResult> RunConfigurationAsync(
        Options options, MailWorld.MailWorld world, WorldPlan plan, string concurrency, int processes, double? floorMs, CancellationToken cancellationToken)
    {
        Console.WriteLine();
        Console.WriteLine($"== Workers:Concurrency {concurrency}, {processes} process(es) on {(options.Postgres is null ? "SQLite" : "PostgreSQL")}; load average {LoadAverage()}");
        var database = options.Postgres is { } postgres ? await FreshDatabase.CreateAsync(postgres, "pe_finder_bench", cancellationToken) : null;
        await using var servers = await ServerGroup.StartAsync(
            options.Server with { Settings = ServerSettings(options, world, concurrency, database) }, processes, cancellationToken);
        // Batches are submitted to the first; every process's workers claim them (the default role runs workers).
        var server = servers.First;
        var workersLine = await WorkersLineAsync(server, cancellationToken);
        foreach (var each in servers.All)
        {
            Console.WriteLine($"server      PID {each.Pid} at {each.Url}, log {each.LogPath}; workers: {(each == server ? workersLine : await WorkersLineAsync(each, cancellationToken)) ?? "?"}");
        }

        using var handler = new SocketsHttpHandler { UseProxy = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(5) };
        using var client = new HttpClient(handler) { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", ApiKey);

        // One authenticated request first, so that the cold batch does not also time the first HTTP request's start-up.
        using (var credits = await client.GetAsync("/api/v2/credits", cancellationToken))
        {
            if (credits.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"GET /api/v2/credits answered {(int)credits.StatusCode}: {await credits.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }

        await RunBatchAsync("warm-up", client, world, plan, [[plan.WarmUp]], options.BatchTimeoutSeconds, cancellationToken);
        var cold = await RunBatchAsync("cold", client, world, plan, plan.ColdBatches, options.BatchTimeoutSeconds, cancellationToken);
        var warm = await RunBatchAsync("warm", client, world, plan, [plan.Warm], options.BatchTimeoutSeconds, cancellationToken);
        var cached = options.Websites ? await RunBatchAsync("cached", client, world, plan, plan.ColdBatches, options.BatchTimeoutSeconds, cancellationToken) : null;
        // The greylisting batch may take the delay and the whole schedule, and more: its bound is that, not the other batches'.
        var greylisted = plan.Greylisted.Count > 0
            ? await RunBatchAsync("greylisted", client, world, plan, [plan.Greylisted],
                Math.Max(options.BatchTimeoutSeconds, options.PostgreySeconds + 3 * options.GreylistSchedule[^1] + 60), cancellationToken)
            : null;
        // "default" is labelled with what the server says it runs with, since the default may change.
        var effective = workersLine is { } line && EffectiveConcurrency().Match(line) is { Success: true } m ? m.Groups[1].Value : "?";
        var label = (concurrency == "default" ? $"default={effective}" : concurrency) + (processes > 1 ? $" x{processes}" : "");
        return new ConfigResult(label, workersLine, cold, warm, floorMs, cached) { Greylisted = greylisted, Processes = processes };
    }

    /// <summary>
    /// The world's settings, a fresh SQLite file in the server's own folder (no domain knowledge, an empty
    /// DNS cache), credits and a rate limit that never get in the way, and the Workers:Concurrency measured.
    /// </summary>
    private static Dictionary<string, string?> ServerSettings(Options options, MailWorld.MailWorld world, string concurrency, string? postgres)
    {
        var settings = WorldSettings.For(world);
        if (options.Generated is not null || options.GreylistBatch)
        {
            foreach (var (key, value) in GreylistBatch.ScheduleSettings(options.GreylistSchedule))
            {
                settings[key] = value;
            }
        }

        // PostgreSQL: a database of this configuration's own, shared by its processes.
        settings["ConnectionStrings:Sqlite"] = postgres is null ? "Data Source=pe.db" : null;
        settings["ConnectionStrings:Postgres"] = postgres;
        settings["Bootstrap:ApiKey"] = ApiKey;
        settings["Bootstrap:Credits"] = "1000000";
        settings["RateLimit:PermitsPerSecond"] = "100000";
        settings["Smtp:HeloName"] = HeloName;
        settings["Smtp:ConnectTimeout"] = "00:00:05";
        settings["Smtp:CommandTimeout"] = "00:00:05";
        // "default": unset, even if the caller's environment sets it.
        settings["Workers:Concurrency"] = concurrency == "default" ? null : concurrency;
        return settings;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The workers' start-up line ("… with concurrency N"); it may come a moment after /readyz answers.</summary>
    private static async Task<string?> WorkersLineAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        try
        {
            return (await server.WaitForLineAsync("Workers started as", TimeSpan.FromSeconds(1), cancellationToken)).Trim();
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>
    /// Where the batch's time went, from the mail hosts' own transcripts: how long after the POST the first
    /// SMTP byte came, when the last RCPT was answered, and the slowest domains' first and last moments.
    /// </summary>
    private static void PrintTimeline(string label, MailWorld.MailWorld world, DateTimeOffset postedAt, double wallMs)
    {
        var spans = world.Hosts
            .Select(h => (h.Name, Lines: h.Transcript.Lines.Where(l => l.At >= postedAt).ToList()))
            .Where(h => h.Lines.Count > 0)
            .Select(h => (h.Name,
                First: (h.Lines[0].At - postedAt).TotalMilliseconds,
                LastRcpt: h.Lines.Where(l => l.Direction == MailWorld.Direction.Sent).Select(l => (l.At - postedAt).TotalMilliseconds).DefaultIfEmpty(0).Max(),
                Sessions: h.Lines.Select(l => l.Session).Distinct().Count()))
            .OrderByDescending(h => h.LastRcpt)
            .ToList();
        if (spans.Count == 0)
        {
            return;
        }

        foreach (var host in world.Hosts.Where(h => (Environment.GetEnvironmentVariable("FINDER_BENCH_TRACE") ?? "").Split(',').Contains(h.Name)))
        {
            foreach (var line in host.Transcript.Lines.Where(l => l.At >= postedAt))
            {
                Console.WriteLine($"  trace +{(line.At - postedAt).TotalMilliseconds,6:0} s{line.Session} {line}");
            }
        }

        Console.WriteLine($"{label,-11} timeline: first SMTP byte +{spans.Min(s => s.First):0} ms, last server reply +{spans.Max(s => s.LastRcpt):0} ms, batch COMPLETED seen +{wallMs:0} ms; slowest hosts: " +
            string.Join(", ", spans.Take(3).Select(s => $"{s.Name} +{s.First:0}..+{s.LastRcpt:0} ms ({s.Sessions} sessions)")));
    }

    /// <summary>
    /// Submits the batches one right after another, without waiting for any (as a client with a longer list would), polls
    /// each until it is no longer PROCESSING, and scores their people together as one run called <paramref name="label"/>.
    /// </summary>
    private static async Task<BatchResult> RunBatchAsync(
        string label, HttpClient client, MailWorld.MailWorld world, WorldPlan plan, IReadOnlyList<IReadOnlyList<PlannedPerson>> batches, int timeoutSeconds,
        CancellationToken cancellationToken)
    {
        var people = batches.SelectMany(b => b).ToList();
        var bodies = batches.Select(RequestBody).ToList();
        var rcptBefore = world.TotalRcptCommands;
        var rcptByDomainBefore = RcptByDomain(world, plan);
        var httpBefore = world.HttpRequests.Count;
        var sessionsBefore = world.TotalSessions;
        var perHostBefore = world.Hosts.ToDictionary(h => h.Name, h => h.Sessions);
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var peaks = SamplePeaksAsync(world, sampling.Token);

        var clock = Stopwatch.StartNew();
        var postedAt = DateTimeOffset.UtcNow;
        var requestIds = new List<string>();
        foreach (var body in bodies)
        {
            requestIds.Add(await SubmitAsync(client, body, cancellationToken));
        }

        var results = new List<JsonNode?>();
        var completed = true;
        var polls = 0;
        foreach (var (requestId, batch) in requestIds.Zip(batches))
        {
            var polled = await PollAsync(client, requestId, clock, timeoutSeconds, cancellationToken);
            polls += polled.Polls;
            completed &= polled.Completed;
            var answered = polled.Answer?["results"]?.AsArray() ?? [];
            results.AddRange(batch.Select((_, i) => i < answered.Count ? answered[i] : null));
        }

        var wallMs = clock.Elapsed.TotalMilliseconds;
        await sampling.CancelAsync();
        PrintTimeline(label, world, postedAt, wallMs);
        var (peakPerHost, peakTotal) = await peaks;
        var rcpt = world.TotalRcptCommands - rcptBefore;
        var sessions = world.TotalSessions - sessionsBefore;
        var sessionsPerHost = world.Hosts.Select(h => h.Sessions - perHostBefore[h.Name]).ToList();

        var web = WebFigures.Of(world.HttpRequests.Skip(httpBefore).ToList());
        var answers = people.Select((p, i) => Answer.Of(p, results[i])).ToList();
        var score = Score.Of(answers, rcpt);
        var phonesFound = answers.Count(a => a.PhoneFound);
        var outcome = new BatchResult(label, completed, wallMs, people.Count, score.Right, rcpt, sessions,
            sessionsPerHost.Max(), peakPerHost, peakTotal, polls, web, phonesFound) { Score = score };
        Console.WriteLine($"{label,-11} {(completed ? "COMPLETED" : "NOT COMPLETED")} in {wallMs:F0} ms ({polls} polls{(batches.Count > 1 ? $" of {batches.Count} batches" : "")}); " +
                          $"RCPT {rcpt} ({outcome.RcptPerPerson:F2}/person asked, {score.RcptPerFound:F2}/person found), sessions {sessions} ({outcome.SessionsPerPerson:F2}/person, " +
                          $"at most {outcome.MaxSessionsOneHost} at one host), peak open sessions {peakTotal} (at one host {peakPerHost}); " +
                          $"found {score}" +
                          (people.Any(p => p.Phone is not null) ? $"; phones found {phonesFound}/{people.Count}; {web}" : ""));
        foreach (var missed in answers.Where(a => !a.Right && (a.Person.Address is not null || a.Wrong)).Take(5))
        {
            Console.WriteLine($"            {(missed.Wrong ? "wrong" : "not found")}: {missed}");
        }

        if (plan.Domains.Any(d => d.Scenario != "Normal") && people.Count > 1)
        {
            PrintByScenario(world, plan, answers, rcptByDomainBefore);
        }

        return outcome;
    }

    private static string RequestBody(IReadOnlyList<PlannedPerson> people) =>
        new JsonObject
        {
            ["requests"] = new JsonArray(people.Select((p, i) => (JsonNode)new JsonObject
            {
                ["firstname"] = p.FirstName,
                ["lastname"] = p.LastName,
                ["domain"] = p.Domain,
                ["enrich_fields"] = p.Phone is null ? new JsonArray("contact.emails") : new JsonArray("contact.emails", "contact.phones"),
                ["custom"] = new JsonObject { ["i"] = i.ToString(CultureInfo.InvariantCulture) },
            }).ToArray()),
        }.ToJsonString();

    /// <summary>POSTs one batch; its request id.</summary>
    private static async Task<string> SubmitAsync(HttpClient client, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var post = await client.PostAsync(EnrichPath, content, cancellationToken);
        var posted = await post.Content.ReadAsStringAsync(cancellationToken);
        if (post.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"POST answered {(int)post.StatusCode}: {posted}");
        }

        return JsonNode.Parse(posted)!["request_id"]!.GetValue<string>();
    }

    /// <summary>Polls a batch (waiting up to 30 s a poll) until it is no longer PROCESSING or <paramref name="clock"/> passes the time-out.</summary>
    private static async Task<(JsonNode? Answer, bool Completed, int Polls)> PollAsync(
        HttpClient client, string requestId, Stopwatch clock, int timeoutSeconds, CancellationToken cancellationToken)
    {
        JsonNode? answer = null;
        var polls = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(timeoutSeconds))
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{requestId}");
            get.Headers.TryAddWithoutValidation("Prefer", "wait=30");
            using var response = await client.SendAsync(get, cancellationToken);
            polls++;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"GET answered {(int)response.StatusCode}: {text}");
            }

            answer = JsonNode.Parse(text);
            var status = answer!["status"]!.GetValue<string>();
            if (status != "PROCESSING")
            {
                return (answer, status == "COMPLETED", polls);
            }
        }

        return (answer, false, polls);
    }

    /// <summary>Each kind of domain's share of the batch: its people, what was found, and the RCPT commands its mail hosts saw.</summary>
    private static void PrintByScenario(MailWorld.MailWorld world, WorldPlan plan, IReadOnlyList<Answer> answers, IReadOnlyDictionary<string, int> rcptBefore)
    {
        var rcptAfter = RcptByDomain(world, plan);
        foreach (var scenario in plan.Domains.GroupBy(d => d.Scenario).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var names = scenario.Select(d => d.Name).ToHashSet();
            var mine = answers.Where(a => names.Contains(a.Person.Domain)).ToList();
            var rcpt = names.Sum(n => rcptAfter[n] - rcptBefore[n]);
            if (mine.Count > 0 || rcpt > 0)
            {
                Console.WriteLine($"            {scenario.Key,-20} {Score.Of(mine, rcpt)}, RCPT {rcpt}");
            }
        }

        // A greylisting domain's every RCPT is asked twice (before and after the delay), and whether a person's candidates
        // are all planted in the first round depends on timing: those domains dominate the run-to-run noise.
        var greylisting = plan.Domains.Where(d => GreylistingScenarios.Contains(d.Scenario)).Select(d => d.Name).ToHashSet();
        var others = answers.Where(a => !greylisting.Contains(a.Person.Domain)).ToList();
        if (greylisting.Count > 0 && others.Count > 0)
        {
            var rcptOthers = plan.Domains.Where(d => !greylisting.Contains(d.Name)).Sum(d => rcptAfter[d.Name] - rcptBefore[d.Name]);
            var score = Score.Of(others, rcptOthers);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"            without greylisting: RCPT {rcptOthers}, found {score.Right}, RCPT/found {score.RcptPerFound:F2}"));
        }
    }

    /// <summary>The scenarios whose mail hosts greylist (<see cref="PlannedDomain.Scenario"/>).</summary>
    private static readonly string[] GreylistingScenarios = [nameof(Scenario.Greylist), nameof(Scenario.Postgrey), GreylistBatch.ScenarioName];

    private static Dictionary<string, int> RcptByDomain(MailWorld.MailWorld world, WorldPlan plan) =>
        plan.Domains.ToDictionary(d => d.Name, d => world.HostsOf(d.Name).Sum(h => h.RcptCommands));

    /// <summary>Peak sessions open at once, at one host and in all, sampled every millisecond or so.</summary>
    private static async Task<(int PerHost, int Total)> SamplePeaksAsync(MailWorld.MailWorld world, CancellationToken cancellationToken)
    {
        int perHost = 0, total = 0;
        var hosts = world.Hosts;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var sum = 0;
                foreach (var host in hosts)
                {
                    var active = host.ActiveSessions;
                    sum += active;
                    perHost = Math.Max(perHost, active);
                }

                total = Math.Max(total, sum);
                await Task.Delay(1, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (perHost, total);
    }

    private static async Task<NaiveResult> RunNaiveAsync(MailWorld.MailWorld world, WorldPlan plan, CancellationToken cancellationToken)
    {
        Console.WriteLine();
        Console.WriteLine($"== naive: the cold batch's {plan.Cold.Count} people one after another, one address per session, " +
                          $"candidates in the order {string.Join(", ", WorldPlan.NaiveOrder.Select(p => p.Template()))}");
        var rcptBefore = world.TotalRcptCommands;
        var rcptByDomainBefore = RcptByDomain(world, plan);
        var sessionsBefore = world.TotalSessions;
        var found = 0;
        var clock = Stopwatch.StartNew();
        foreach (var person in plan.Cold)
        {
            var host = world.Host(plan.Domains.Single(d => d.Name == person.Domain).MxHost);
            foreach (var pattern in WorldPlan.NaiveOrder)
            {
                var address = $"{pattern.Apply(person.FirstName, person.LastName)}@{person.Domain}";
                if (await RawSmtp.OneAddressSessionAsync(host.EndPoint!, address, cancellationToken))
                {
                    found += address == person.Address ? 1 : 0;
                    break;
                }
            }
        }

        var wallMs = clock.Elapsed.TotalMilliseconds;
        var result = new NaiveResult(wallMs, plan.Cold.Count, found, world.TotalRcptCommands - rcptBefore, world.TotalSessions - sessionsBefore);
        Console.WriteLine($"naive       {wallMs:F0} ms; RCPT {result.Rcpt} ({result.RcptPerPerson:F2}/person), sessions {result.Sessions}; found {found}/{plan.Cold.Count}");
        return result;
    }

    private static void PrintSummary(Options options, IReadOnlyList<ConfigResult> results, NaiveResult? naive, double? floorMs)
    {
        var f = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("== summary");
        Console.WriteLine(floorMs is { } floor
            ? $"floor (one minimal session, median): {floor:F1} ms; targets: cold batch/floor <= {options.TargetRatio}, warm RCPT/person <= {options.TargetWarmRcpt}"
            : $"targets: cold RCPT per person found <= {options.TargetColdRcptPerFound}, warm <= {options.TargetWarmRcptPerFound}");
        Console.WriteLine("| concurrency | batch | wall ms | batch/floor | RCPT/person asked | RCPT/person found | find rate | precision | sessions | max sessions at one host | peak open at one host | peak open in all | found |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            foreach (var b in new[] { r.Cold, r.Warm, r.Greylisted }.OfType<BatchResult>())
            {
                Console.WriteLine(string.Create(f, $"| {r.Concurrency} | {b.Label} | {b.WallMs:F0} | {Ratio(b.WallMs, floorMs)} | {b.RcptPerPerson:F2} | {b.Score.RcptPerFound:F2} | " +
                                                   $"{Score.Percent(b.Score.FindRate)} | {Score.Percent(b.Score.Precision)} | {b.Sessions} | {b.MaxSessionsOneHost} | {b.PeakOpenOneHost} | {b.PeakOpenTotal} | {b.Found}/{b.People} |"));
            }
        }

        if (naive is not null)
        {
            Console.WriteLine(string.Create(f, $"| - | naive | {naive.WallMs:F0} | {Ratio(naive.WallMs, floorMs)} | {naive.RcptPerPerson:F2} | | | | {naive.Sessions} | | | 1 | {naive.Found}/{naive.People} |"));
        }

        if (results.Any(r => r.Cached is not null))
        {
            Console.WriteLine();
            Console.WriteLine("| concurrency | batch | wall ms | HTTP requests | sites crawled | pages per site (median) | pages per site (max) | phones found | RCPT | sessions |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results)
            {
                foreach (var b in new[] { r.Cold, r.Warm, r.Cached! })
                {
                    Console.WriteLine(string.Create(f, $"| {r.Concurrency} | {b.Label} | {b.WallMs:F0} | {b.Web.Requests} | {b.Web.Sites} | {b.Web.PagesPerSiteMedian:0.#} | {b.Web.PagesPerSiteMax} | {b.PhonesFound}/{b.People} | {b.Rcpt} | {b.Sessions} |"));
                }
            }
        }

        foreach (var r in results)
        {
            Console.WriteLine(floorMs is { } floorOfRun
                ? string.Create(f, $"concurrency {r.Concurrency}: cold ratio {r.Cold.WallMs / floorOfRun:F1} ({Met(r.Cold.WallMs / floorOfRun <= options.TargetRatio)}), " +
                                   $"warm RCPT/person {r.Warm.RcptPerPerson:F2} ({Met(r.Warm.RcptPerPerson <= options.TargetWarmRcpt)})")
                : string.Create(f, $"concurrency {r.Concurrency}: cold RCPT/person found {r.Cold.Score.RcptPerFound:F2} ({Met(r.Cold.Score.RcptPerFound <= options.TargetColdRcptPerFound)}), " +
                                   $"warm {r.Warm.Score.RcptPerFound:F2} ({Met(r.Warm.Score.RcptPerFound <= options.TargetWarmRcptPerFound)})"));
            if (r.Greylisted is { } g)
            {
                var bound = options.PostgreySeconds + options.GreylistStep;
                Console.WriteLine(string.Create(f, $"concurrency {r.Concurrency}: greylisting batch {g.WallMs / 1000:F1} s, bound {bound} s " +
                                                   $"(delay {options.PostgreySeconds} s + one retry step {options.GreylistStep} s): {Met(g.Completed && g.WallMs <= bound * 1000.0)}"));
            }
        }

        var pairs = new List<string>();
        if (floorMs is { } measured)
        {
            pairs.Add(string.Create(f, $"floor_ms={measured:F1}"));
        }

        foreach (var r in results)
        {
            var k = "c" + (r.Concurrency.StartsWith("default", StringComparison.Ordinal) ? "default" : r.Concurrency.Split(' ')[0]) + (r.Processes > 1 ? $"_x{r.Processes}" : "");
            pairs.Add(string.Create(f, $"{k}_cold_ms={r.Cold.WallMs:F0} {k}_cold_ratio={Ratio(r.Cold.WallMs, floorMs)} {k}_cold_rcpt_per_person={r.Cold.RcptPerPerson:F2} " +
                                       $"{k}_cold_rcpt_per_found={r.Cold.Score.RcptPerFound:F2} {k}_cold_find_rate={r.Cold.Score.FindRate:F3} {k}_cold_precision={r.Cold.Score.Precision:F3} " +
                                       $"{k}_cold_sessions={r.Cold.Sessions} {k}_cold_found={r.Cold.Found} {k}_warm_ms={r.Warm.WallMs:F0} " +
                                       $"{k}_warm_rcpt_per_person={r.Warm.RcptPerPerson:F2} {k}_warm_rcpt_per_found={r.Warm.Score.RcptPerFound:F2} " +
                                       $"{k}_warm_find_rate={r.Warm.Score.FindRate:F3} {k}_warm_precision={r.Warm.Score.Precision:F3} {k}_warm_sessions={r.Warm.Sessions} {k}_warm_found={r.Warm.Found} " +
                                       $"{k}_peak_open_one_host={Math.Max(r.Cold.PeakOpenOneHost, r.Warm.PeakOpenOneHost)}"));
            if (r.Cached is { } c)
            {
                pairs.Add(string.Create(f, $"{k}_cold_http={r.Cold.Web.Requests} {k}_cold_pages_per_site={r.Cold.Web.PagesPerSiteMedian:0.#} {k}_cold_phones_found={r.Cold.PhonesFound} " +
                                           $"{k}_warm_http={r.Warm.Web.Requests} {k}_cached_ms={c.WallMs:F0} {k}_cached_http={c.Web.Requests} {k}_cached_rcpt={c.Rcpt} {k}_cached_found={c.Found} {k}_cached_phones_found={c.PhonesFound}"));
            }

            if (r.Greylisted is { } g)
            {
                pairs.Add(string.Create(f, $"{k}_greylisted_ms={g.WallMs:F0} {k}_greylisted_rcpt_per_person={g.RcptPerPerson:F2} {k}_greylisted_rcpt_per_found={g.Score.RcptPerFound:F2} {k}_greylisted_found={g.Found}"));
            }
        }

        if (naive is not null)
        {
            pairs.Add(string.Create(f, $"naive_ms={naive.WallMs:F0} naive_rcpt_per_person={naive.RcptPerPerson:F2} naive_found={naive.Found}"));
        }

        Console.WriteLine("RESULT " + string.Join(' ', pairs));

        static string Met(bool met) => met ? "met" : "NOT met";

        static string Ratio(double wallMs, double? floorMs) => floorMs is { } minimal ? (wallMs / minimal).ToString("F2", CultureInfo.InvariantCulture) : "-";
    }
}

internal sealed record BatchResult(
    string Label, bool Completed, double WallMs, int People, int Found, int Rcpt, int Sessions,
    int MaxSessionsOneHost, int PeakOpenOneHost, int PeakOpenTotal, int Polls, WebFigures Web, int PhonesFound)
{
    public required Score Score { get; init; }

    public double RcptPerPerson => (double)Rcpt / People;

    public double SessionsPerPerson => (double)Sessions / People;
}

/// <param name="FloorMs">The floor (one minimal session), measured in the planned world only.</param>
/// <param name="Cached">The cold batch submitted again (only with websites): answered from the results cache.</param>
internal sealed record ConfigResult(string Concurrency, string? WorkersLine, BatchResult Cold, BatchResult Warm, double? FloorMs, BatchResult? Cached = null)
{
    /// <summary>The greylisting batch (--greylist-batch).</summary>
    public BatchResult? Greylisted { get; init; }

    /// <summary>Server processes sharing the configuration's database (--processes).</summary>
    public int Processes { get; init; } = 1;
}

/// <summary>The HTTP requests the world's websites saw during a batch: in all, and pages per site (robots.txt not counted).</summary>
internal sealed record WebFigures(int Requests, int Sites, double PagesPerSiteMedian, int PagesPerSiteMax)
{
    public static WebFigures Of(IReadOnlyList<MailWorld.HttpRequestRecord> requests)
    {
        var perSite = requests.Where(r => r.Path != "/robots.txt")
            .GroupBy(r => r.Host.StartsWith("www.", StringComparison.Ordinal) ? r.Host[4..] : r.Host)
            .Select(g => (double)g.Count())
            .ToList();
        return new WebFigures(requests.Count, perSite.Count, perSite.Count == 0 ? 0 : Stats.Median(perSite), perSite.Count == 0 ? 0 : (int)perSite.Max());
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"HTTP requests {Requests}, pages per site median {PagesPerSiteMedian:0.#}, max {PagesPerSiteMax} ({Sites} sites)");
}

/// <summary>A bench domain's website: a home page linking to a team page that gives each person's direct line beside their name.</summary>
internal static class BenchSite
{
    public static WebsiteDescription For(string domain, IReadOnlyList<PlannedPerson> people)
    {
        var company = domain[..domain.IndexOf('.')];
        var cards = string.Concat(people.Select(p =>
            $"<li class=\"card\"><h3>{p.FirstName} {p.LastName}</h3><p>Account Manager</p><p>Direct: <a href=\"tel:{p.Phone}\">{p.Phone}</a></p></li>"));
        const string Footer = "<footer>Switchboard: <a href=\"tel:+14155550100\">+1 415-555-0100</a></footer>";
        return new WebsiteDescription
        {
            RobotsTxt = "User-agent: *\nDisallow: /private\n",
            Pages =
            [
                new PageDescription { Path = "/", Body = $"<html lang=\"en\"><body><h1>{company}</h1><nav><a href=\"/about\">About us</a> <a href=\"/team\">Our team</a> <a href=\"/contact\">Contact</a></nav>{Footer}</body></html>" },
                new PageDescription { Path = "/about", Body = $"<html lang=\"en\"><body><h1>About {company}</h1><p>We make things.</p>{Footer}</body></html>" },
                new PageDescription { Path = "/contact", Body = $"<html lang=\"en\"><body><h1>Contact</h1><p>Call us.</p>{Footer}</body></html>" },
                new PageDescription { Path = "/team", Body = $"<html lang=\"en\"><body><h1>Our team</h1><ul>{cards}</ul>{Footer}</body></html>" },
            ],
        };
    }
}

internal sealed record NaiveResult(double WallMs, int People, int Found, int Rcpt, int Sessions)
{
    public double RcptPerPerson => (double)Rcpt / People;
}

/// <param name="Scenario">What kind of domain it is (the generator's scenario; "Normal" in the planned world).</param>
internal sealed record PlannedDomain(string Name, string MxHost, AddressPattern Pattern, string Scenario = "Normal");

/// <param name="Address">The person's address, or null when they have no mailbox.</param>
/// <param name="Phone">The direct line the domain's website gives beside the person's name (E.164), when the world has websites.</param>
internal sealed record PlannedPerson(string FirstName, string LastName, string Domain, string? Address, string? Phone = null);

/// <summary>
/// The world and its people: by default ordinary domains, one pattern each, every person with a mailbox
/// (<see cref="Build"/>); or a generated one (<see cref="GeneratedPlan"/>). <see cref="Greylisted"/> is the
/// greylisting batch's people, when there is one (<see cref="GreylistBatch"/>).
/// </summary>
internal sealed record WorldPlan(WorldDescription Description, IReadOnlyList<PlannedDomain> Domains, IReadOnlyList<PlannedPerson> Cold, IReadOnlyList<PlannedPerson> Warm, PlannedPerson WarmUp)
{
    public const string WarmUpDomain = "warmup.test";

    public IReadOnlyList<PlannedPerson> Greylisted { get; init; } = [];

    /// <summary>The cold people as they are submitted: batches of <see cref="GeneratedPlan.BatchSize"/>, all at once.</summary>
    public IReadOnlyList<IReadOnlyList<PlannedPerson>> ColdBatches => [.. Cold.Chunk(GeneratedPlan.BatchSize)];

    /// <summary>The one person of the warm-up batch, at a domain outside the measured ones.</summary>
    public static PlannedPerson WarmUpPerson { get; } = new("Warm", "Up", WarmUpDomain, $"warm.up@{WarmUpDomain}");

    /// <summary>The warm-up domain: it warms the server's code paths (JIT of the POST, the workers, DNS and SMTP) without teaching it anything about the measured domains.</summary>
    public static DomainDescription WarmUpDescription(int replyDelayMs) => new()
    {
        Name = WarmUpDomain,
        Mx = [new MxDescription { Preference = 10, Host = $"mx1.{WarmUpDomain}" }],
        Mailboxes = ["warm.up"],
        ReplyDelayMs = replyDelayMs,
    };

    /// <summary>Every pattern the world knows, the most common first; domains take them in turn.</summary>
    public static readonly AddressPattern[] NaiveOrder =
    [
        AddressPattern.FirstDotLast, AddressPattern.FLast, AddressPattern.First, AddressPattern.FDotLast, AddressPattern.FirstLast,
        AddressPattern.LastDotFirst, AddressPattern.FirstUnderscoreLast, AddressPattern.LastF, AddressPattern.FirstDotL, AddressPattern.Last,
    ];

    // Disjoint lists (no first name is also a last name), none a role word; 40 of each.
    internal static readonly string[] FirstNames =
    [
        "alice", "bruno", "carla", "dmitri", "elena", "felix", "greta", "hugo", "irene", "jonas",
        "karin", "lukas", "marta", "nadia", "oscar", "paula", "quentin", "rosa", "stefan", "tanja",
        "ulrich", "vera", "walter", "xenia", "yusuf", "zoe", "anton", "bianca", "cyril", "daria",
        "emil", "flora", "gustav", "helga", "ivan", "julia", "konrad", "lena", "milan", "nora",
    ];

    internal static readonly string[] LastNames =
    [
        "abbott", "becker", "castro", "dalton", "eriksen", "fischer", "garcia", "hoffman", "ingram", "jansen",
        "keller", "lindqvist", "moreau", "novak", "olsen", "petrov", "quinn", "romero", "schulz", "tanaka",
        "ueda", "vogel", "wagner", "xavier", "yilmaz", "zimmer", "arnold", "brandt", "conti", "duarte",
        "engel", "ferrari", "gomez", "haas", "iversen", "jovanovic", "kowalski", "lambert", "meyer", "nielsen",
    ];

    public static WorldPlan Build(int domainCount, int peoplePerDomain, int replyDelayMs, bool websites = false)
    {
        var perDomain = 2 * peoplePerDomain; // cold and warm
        if (perDomain > FirstNames.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(peoplePerDomain), $"at most {FirstNames.Length / 2} people per domain");
        }

        var domains = new List<PlannedDomain>();
        var descriptions = new List<DomainDescription>();
        var cold = new List<PlannedPerson>();
        var warm = new List<PlannedPerson>();
        for (var d = 0; d < domainCount; d++)
        {
            var pattern = NaiveOrder[d % NaiveOrder.Length];
            var name = $"company{d + 1:D2}.test";
            var domain = new PlannedDomain(name, $"mx1.{name}", pattern);
            domains.Add(domain);
            var mailboxes = new List<string>();
            for (var j = 0; j < perDomain; j++)
            {
                // Distinct first names and distinct last names within a domain (3 is coprime with 40), so no two
                // people share a local part under any pattern and no one's candidate is someone else's mailbox.
                var first = FirstNames[(d * 7 + j) % FirstNames.Length];
                var last = LastNames[(d * 11 + j * 3) % LastNames.Length];
                var local = pattern.Apply(first, last);
                if (mailboxes.Contains(local))
                {
                    throw new InvalidOperationException($"two people at {name} would share {local}");
                }

                mailboxes.Add(local);
                // (415) 2dd-00jj: a real area code, an exchange that is neither N11 nor 555, unique in the world.
                var phone = string.Create(CultureInfo.InvariantCulture, $"+14152{d + 20:D2}00{j:D2}");
                var person = new PlannedPerson(Capitalise(first), Capitalise(last), name, $"{local}@{name}", websites ? phone : null);
                (j < peoplePerDomain ? cold : warm).Add(person);
            }

            descriptions.Add(new DomainDescription
            {
                Name = name,
                Mx = [new MxDescription { Preference = 10, Host = domain.MxHost }],
                Mailboxes = mailboxes,
                ReplyDelayMs = replyDelayMs,
                Website = websites ? BenchSite.For(name, cold.Concat(warm).Where(p => p.Domain == name).ToList()) : null,
            });
        }

        // Interleave the domains (person 1 of each, then person 2 of each…), as a real list would mix companies.
        static List<PlannedPerson> Interleave(List<PlannedPerson> people, int perDomain) =>
            people.Select((p, i) => (p, i)).OrderBy(x => x.i % perDomain).ThenBy(x => x.i / perDomain).Select(x => x.p).ToList();

        descriptions.Add(WarmUpDescription(replyDelayMs));
        return new WorldPlan(new WorldDescription { Domains = descriptions }, domains, Interleave(cold, peoplePerDomain), Interleave(warm, peoplePerDomain), WarmUpPerson);
    }

    internal static string Capitalise(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>SMTP over a raw socket, as little as possible: what a prober cannot do faster.</summary>
internal static class RawSmtp
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Banner, EHLO, MAIL FROM, RCPT of a made-up address, RCPT of the person, QUIT; the wall time in ms.</summary>
    public static async Task<double> MinimalSessionAsync(IPEndPoint endPoint, string address, CancellationToken cancellationToken)
    {
        var domain = address[(address.IndexOf('@') + 1)..];
        var probe = $"x{Guid.NewGuid():N}"[..16] + "@" + domain;
        var clock = Stopwatch.StartNew();
        await using var session = await Session.OpenAsync(endPoint, cancellationToken);
        await session.ExpectAsync(null, 220, cancellationToken);
        await session.ExpectAsync($"EHLO {Program.HeloName}", 250, cancellationToken);
        await session.ExpectAsync($"MAIL FROM:<verify@{Program.HeloName}>", 250, cancellationToken);
        await session.ExpectAsync($"RCPT TO:<{probe}>", 550, cancellationToken);
        await session.ExpectAsync($"RCPT TO:<{address}>", 250, cancellationToken);
        await session.ExpectAsync("QUIT", 221, cancellationToken);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Banner, EHLO, MAIL FROM, RCPT, QUIT; whether the RCPT was accepted.</summary>
    public static async Task<bool> OneAddressSessionAsync(IPEndPoint endPoint, string address, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(endPoint, cancellationToken);
        await session.ExpectAsync(null, 220, cancellationToken);
        await session.ExpectAsync($"EHLO {Program.HeloName}", 250, cancellationToken);
        await session.ExpectAsync($"MAIL FROM:<verify@{Program.HeloName}>", 250, cancellationToken);
        var code = await session.SendAsync($"RCPT TO:<{address}>", cancellationToken);
        await session.ExpectAsync("QUIT", 221, cancellationToken);
        return code == 250;
    }

    private sealed class Session : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly StreamReader _reader;

        private Session(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, Encoding.Latin1, false, 4096, leaveOpen: true);
        }

        public static async Task<Session> OpenAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
        {
            if (!IPAddress.IsLoopback(endPoint.Address))
            {
                throw new InvalidOperationException($"refusing to connect to {endPoint}: loopback only");
            }

            var client = new TcpClient(endPoint.AddressFamily) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StepTimeout);
            await client.ConnectAsync(endPoint, timeout.Token);
            return new Session(client);
        }

        public async Task ExpectAsync(string? command, int expected, CancellationToken cancellationToken)
        {
            var code = await SendAsync(command, cancellationToken);
            if (code != expected)
            {
                throw new InvalidOperationException($"'{command ?? "(banner)"}' answered {code}, expected {expected}");
            }
        }

        /// <summary>Sends the command (none: reads the banner) and reads the whole reply; its code.</summary>
        public async Task<int> SendAsync(string? command, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StepTimeout);
            if (command is not null)
            {
                await _stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), timeout.Token);
            }

            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new IOException("the server closed the connection");
                if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
                {
                    throw new IOException($"not an SMTP reply: {line}");
                }

                if (line.Length == 3 || line[3] == ' ')
                {
                    return code;
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _stream.Dispose();
            _client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>The command line (System.CommandLine) and what it gives.</summary>
internal sealed record Options
{
    public required ServerOptions Server { get; init; }
    public required IReadOnlyList<string> Concurrencies { get; init; }

    /// <summary>Server processes sharing one database, one configuration each (--processes); more than one needs <see cref="Postgres"/>.</summary>
    public required IReadOnlyList<int> Processes { get; init; }

    /// <summary>A PostgreSQL server's connection string: each configuration gets a fresh database there (--postgres); null: SQLite.</summary>
    public required string? Postgres { get; init; }
    public required int Domains { get; init; }
    public required int PeoplePerDomain { get; init; }
    public required int ReplyDelayMs { get; init; }
    public required int FloorRepeats { get; init; }
    public required bool Naive { get; init; }
    public required bool Websites { get; init; }
    public required int BatchTimeoutSeconds { get; init; }
    public required int TimeoutSeconds { get; init; }

    /// <summary>A generated world of real mail software instead of the planned one (--generated).</summary>
    public required GeneratedOptions? Generated { get; init; }

    /// <summary>Also a batch of 100 people at one greylisting domain (--greylist-batch).</summary>
    public required bool GreylistBatch { get; init; }

    public required AddressPattern GreylistPattern { get; init; }

    public required int PostgreySeconds { get; init; }

    public required double NoMailboxShare { get; init; }

    /// <summary>The server's Smtp:GreylistRetryAfter, in seconds from the moment a domain first deferred us.</summary>
    public required IReadOnlyList<int> GreylistSchedule { get; init; }

    /// <summary>One retry step: the longest wait between two retries of the schedule.</summary>
    public int GreylistStep => GreylistSchedule.Select((s, i) => i == 0 ? s : s - GreylistSchedule[i - 1]).Max();

    public double TargetRatio => 3;
    public double TargetWarmRcpt => 1.5;
    public double TargetColdRcptPerFound => 2.0;
    public double TargetWarmRcptPerFound => 1.3;

    public static RootCommand Command(Func<Options, CancellationToken, Task<int>> run)
    {
        var server = new BenchServerOptions();
        server.ServerDll.Required = true;
        var concurrencies = new Option<IReadOnlyList<string>>("--concurrency")
        {
            Description = "Workers:Concurrency values, comma-separated; \"default\" leaves it unset",
            HelpName = "LIST",
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => ["default", "100"],
            CustomParser = ParseConcurrencies,
        };
        var processes = new Option<IReadOnlyList<int>>("--processes")
        {
            Description = "Server processes (default role) sharing one database, comma-separated: one configuration each, batches submitted " +
                          "to the first and worked by all; more than 1 needs --postgres",
            HelpName = "LIST",
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => [1],
            CustomParser = ParseProcesses,
        };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "A PostgreSQL server's connection string: each configuration runs on a fresh database created there (default: a SQLite file)",
            HelpName = "CONNECTION",
        };
        var domains = BenchCommandLine.WholeNumber("--domains", "Domains in the world", 20, 1, 200);
        var peoplePerDomain = BenchCommandLine.WholeNumber("--people-per-domain", "People per domain in each batch (5: 100 cold, 100 warm)", 5, 1, 20);
        var replyDelayMs = BenchCommandLine.WholeNumber("--reply-delay-ms", "Delay before every SMTP reply", 30, 0, 5000);
        var floorRepeats = BenchCommandLine.WholeNumber("--floor-repeats", "Minimal sessions timed for the floor; the median counts", 5, 1, 100);
        var noNaive = new Option<bool>("--no-naive") { Description = "Skip the naive one-address-per-session comparison" };
        var websites = new Option<bool>("--websites")
        {
            Description = "Give every domain a website (home page, team page with each person's direct line), ask for phones too, " +
                          "and resubmit the cold batch to time it from the results cache",
        };
        var batchTimeout = BenchCommandLine.WholeNumber("--batch-timeout", "Seconds a batch may take before the run fails", 180, 1, 3600);
        var timeout = BenchCommandLine.WholeNumber("--timeout", "Seconds the whole run may take", 900, 1, 86400);
        var generated = new Option<bool>("--generated")
        {
            Description = "A generated world instead (WorldGenerator with the behaviours of real mail software: Postfix's error limits, " +
                          "a block-listed client, postgrey, dead MX hosts, and every older scenario): cold = its first 100 people (--cold-batches K: K x 100), warm = the next 100",
        };
        var seed = BenchCommandLine.WholeNumber("--seed", "The generated world's seed", 2026, 0, int.MaxValue);
        var coldBatches = BenchCommandLine.WholeNumber("--cold-batches",
            "With --generated: the cold run is N batches of 100 people, submitted at once and counted together " +
            "(the world then has (N+1) x 100 people; 3 with --generated-domains 30 is issue 9's world of 300 people at 30 domains)", 1, 1, 10);
        var generatedDomains = BenchCommandLine.WholeNumber("--generated-domains", "Domains in the generated world (21 scenarios: fewer leaves some out)", 25, 1, 200);
        var noMailbox = BenchCommandLine.WholeNumber("--no-mailbox-percent", "People without a mailbox, in the generated world and the greylisting batch", 25, 0, 100);
        var postgreySeconds = BenchCommandLine.WholeNumber("--postgrey-seconds", "The greylisting delay of the generated world's greylisting domains and of the greylisting batch", 30, 1, 3600);
        var schedule = new Option<IReadOnlyList<int>?>("--greylist-schedule")
        {
            Description = "The server's Smtp:GreylistRetryAfter, seconds from the first deferral, comma-separated " +
                          "(default: 1, 3 and 6 minutes scaled as 300 s is to --postgrey-seconds: 6,18,36 for 30 s)",
            HelpName = "LIST",
            CustomParser = ParseSeconds,
        };
        var realisticPatterns = new Option<bool>("--realistic-patterns")
        {
            Description = "With --generated: draw the domains' patterns with the shares real companies were counted to use " +
                          "(WorldGenerator.RealisticPatternShares) instead of uniformly from the ten shapes",
        };
        var greylistBatch = new Option<bool>("--greylist-batch") { Description = "Then a batch of 100 people at one greylisting domain (postgrey at --postgrey-seconds)" };
        var greylistPattern = new Option<AddressPattern>("--greylist-pattern")
        {
            Description = "The greylisting batch's address pattern",
            DefaultValueFactory = _ => AddressPattern.FirstDotLast,
        };

        var command = BenchCommandLine.Root(
            "Email-finder benchmark: a simulated mail world in this process, the real server (--server-dll) as a child process " +
            "pointed at it, a cold and a warm batch of people timed against the floor of one minimal SMTP session. Loopback only.",
            server, concurrencies, processes, postgres, domains, peoplePerDomain, replyDelayMs, floorRepeats, noNaive, websites, batchTimeout, timeout,
            generated, seed, generatedDomains, coldBatches, noMailbox, postgreySeconds, realisticPatterns, schedule, greylistBatch, greylistPattern);
        command.Validators.Add(result =>
        {
            if (!result.GetValue(generated) && result.GetValue(domains) * result.GetValue(peoplePerDomain) > 100)
            {
                result.AddError("a batch holds at most 100 people (domains x people-per-domain)");
            }

            if (!result.GetValue(generated) && result.GetValue(coldBatches) > 1)
            {
                result.AddError("--cold-batches needs --generated");
            }

            if (result.GetValue(processes)?.Any(p => p > 1) == true && result.GetValue(postgres) is null)
            {
                result.AddError("--processes above 1 needs --postgres: SQLite is one process");
            }
        });
        command.SetAction((parsed, cancellationToken) => run(new Options
        {
            Server = server.From(parsed),
            Concurrencies = parsed.GetRequiredValue(concurrencies),
            Processes = parsed.GetRequiredValue(processes),
            Postgres = parsed.GetValue(postgres),
            Domains = parsed.GetValue(domains),
            PeoplePerDomain = parsed.GetValue(peoplePerDomain),
            ReplyDelayMs = parsed.GetValue(replyDelayMs),
            FloorRepeats = parsed.GetValue(floorRepeats),
            Naive = !parsed.GetValue(noNaive),
            Websites = parsed.GetValue(websites),
            BatchTimeoutSeconds = parsed.GetValue(batchTimeout),
            TimeoutSeconds = parsed.GetValue(timeout),
            Generated = parsed.GetValue(generated)
                ? new GeneratedOptions(parsed.GetValue(seed), parsed.GetValue(generatedDomains), parsed.GetValue(noMailbox) / 100.0, parsed.GetValue(postgreySeconds))
                {
                    RealisticPatterns = parsed.GetValue(realisticPatterns),
                    ColdBatches = parsed.GetValue(coldBatches),
                }
                : null,
            GreylistBatch = parsed.GetValue(greylistBatch),
            GreylistPattern = parsed.GetValue(greylistPattern),
            PostgreySeconds = parsed.GetValue(postgreySeconds),
            NoMailboxShare = parsed.GetValue(noMailbox) / 100.0,
            GreylistSchedule = parsed.GetValue(schedule) ?? [.. new[] { 60, 180, 360 }.Select(s => Math.Max(1, s * parsed.GetValue(postgreySeconds) / 300))],
        }, cancellationToken));
        return command;
    }

    private static IReadOnlyList<int>? ParseSeconds(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var values = new List<int>();
        foreach (var value in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || (values.Count > 0 && seconds <= values[^1]))
            {
                result.AddError($"--greylist-schedule takes whole seconds, increasing, comma-separated, not '{text}'");
                return null;
            }

            values.Add(seconds);
        }

        if (values.Count == 0)
        {
            result.AddError("--greylist-schedule needs at least one step");
        }

        return values;
    }

    private static IReadOnlyList<int> ParseProcesses(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var values = new List<int>();
        foreach (var value in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 8)
            {
                result.AddError($"--processes takes numbers from 1 to 8, comma-separated, not '{text}'");
                return [1];
            }

            values.Add(count);
        }

        if (values.Count == 0)
        {
            result.AddError("--processes needs at least one number");
        }

        return values;
    }

    private static IReadOnlyList<string> ParseConcurrencies(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (values.Length == 0 || values.Any(v => v != "default" && !(int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1000)))
        {
            result.AddError($"--concurrency takes 'default' or numbers from 1 to 1000, comma-separated, not '{text}'");
        }

        return values;
    }
}
