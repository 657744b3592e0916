using System.Buffers;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PeopleEnrich.Testing;

namespace PeopleEnrich.Bench;

/// <summary>
/// Drives POST /api/v2/people/enrich at a fixed concurrency for a fixed time and reports what the
/// server accepted, how fast it answered and, given its PID, how much memory it needed at peak.
/// Loopback only: this is a tool for measuring a server on the same machine, not a load generator
/// for anyone else's.
/// </summary>
internal static class Program
{
    private const string EnrichPath = "/api/v2/people/enrich";

    private static Task<int> Main(string[] args) => BenchCommandLine.InvokeAsync(BenchOptions.Command(RunAsync), args);

    private static Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken) => options.OwnServer is { } server
        ? server.RunAsync((target, ct) => LoadAsync(options, target, ct), cancellationToken)
        : LoadAsync(options, options.Target!, cancellationToken);

    private static async Task<int> LoadAsync(BenchOptions options, LoadTarget target, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(options.Concurrency, 1),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new HttpClient(handler)
        {
            BaseAddress = target.Url,
            Timeout = options.RequestTimeout,
        };

        Console.WriteLine($"target      {new Uri(target.Url, EnrichPath)}");
        Console.WriteLine($"load        concurrency {options.Concurrency}, {options.BatchSize} people per POST, " +
                          $"warm-up {options.WarmupSeconds} s, measured {options.DurationSeconds} s");

        var generator = new PeopleGenerator(options.BatchSize);

        if (options.WarmupSeconds > 0)
        {
            var warmup = await RunPhaseAsync(client, options, target.Key, generator, TimeSpan.FromSeconds(options.WarmupSeconds), cancellationToken);
            Console.WriteLine($"warm-up     {warmup.Requests} requests, {warmup.Accepted} accepted (not counted)");
            if (warmup.Accepted == 0)
            {
                Console.Error.WriteLine("error: nothing was accepted during the warm-up; is the server up and the key right?");
                warmup.PrintFailures();
                return 1;
            }
        }

        var serverBefore = target.ServerPid is { } pid ? ProcessSample.Read(pid) : null;
        var machineBefore = MachineCpu.Read();
        var selfBefore = Process.GetCurrentProcess().TotalProcessorTime;

        var result = await RunPhaseAsync(client, options, target.Key, generator, TimeSpan.FromSeconds(options.DurationSeconds), cancellationToken);

        var selfCpu = Process.GetCurrentProcess().TotalProcessorTime - selfBefore;
        var machineAfter = MachineCpu.Read();
        var serverAfter = target.ServerPid is { } pid2 ? ProcessSample.Read(pid2) : null;

        Report(result, target, serverBefore, serverAfter, machineBefore, machineAfter, selfCpu);
        if (options.LatenciesOut is { } path)
        {
            // One latency per line, in ms, ascending: for histograms and comparisons between runs.
            await File.WriteAllLinesAsync(path, result.SortedLatencies().Select(ms => ms.ToString("0.###", CultureInfo.InvariantCulture)), cancellationToken);
            Console.WriteLine($"latencies   written to {path}");
        }

        return result.Accepted > 0 && result.Rejected == 0 && result.TransportErrors == 0 ? 0 : 1;
    }

    private static async Task<PhaseResult> RunPhaseAsync(
        HttpClient client, BenchOptions options, string key, PeopleGenerator generator, TimeSpan duration, CancellationToken cancellationToken)
    {
        var result = new PhaseResult();
        // Bounded: no new request starts after `duration`, and whatever is still in flight is
        // abandoned once the request timeout has passed on top of it (or at once on Ctrl+C).
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(duration + options.RequestTimeout + TimeSpan.FromSeconds(5));
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(_ => Task.Run(() => WorkerAsync(client, options, key, generator, started, duration, result, hardStop.Token)))
            .ToArray();
        await Task.WhenAll(workers);
        result.Elapsed = Stopwatch.GetElapsedTime(started);
        return result;
    }

    private static async Task WorkerAsync(
        HttpClient client, BenchOptions options, string key, PeopleGenerator generator, long started, TimeSpan duration, PhaseResult result, CancellationToken hardStop)
    {
        var buffer = new ArrayBufferWriter<byte>(options.BatchSize * 160);
        var latencies = new List<double>(4096);
        var acceptedLatencies = new List<double>(4096);
        try
        {
            while (!hardStop.IsCancellationRequested && Stopwatch.GetElapsedTime(started) < duration)
            {
                buffer.ResetWrittenCount();
                generator.WriteBody(buffer);
                using var request = new HttpRequestMessage(HttpMethod.Post, EnrichPath);
                request.Headers.TryAddWithoutValidation("Authorization", key);
                request.Content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, hardStop);
                    var body = await response.Content.ReadAsByteArrayAsync(hardStop);
                    var ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    latencies.Add(ms);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        acceptedLatencies.Add(ms);
                        result.AddAccepted(ItemCount(body, options.BatchSize));
                    }
                    else
                    {
                        result.AddRejected((int)response.StatusCode, Encoding.UTF8.GetString(body));
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
                {
                    result.AddTransportError(exception);
                }
            }
        }
        finally
        {
            result.AddLatencies(latencies, acceptedLatencies);
        }
    }

    private static int ItemCount(byte[] body, int fallback)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("item_count", out var count) && count.TryGetInt32(out var n) ? n : fallback;
        }
        catch (JsonException)
        {
            return fallback;
        }
    }

    private static void Report(
        PhaseResult result, LoadTarget target, ProcessSample? serverBefore, ProcessSample? serverAfter,
        MachineCpu? machineBefore, MachineCpu? machineAfter, TimeSpan selfCpu)
    {
        var seconds = result.Elapsed.TotalSeconds;
        var itemsPerSecond = result.AcceptedItems / seconds;
        var all = result.SortedLatencies();
        var accepted = result.SortedAcceptedLatencies();

        Console.WriteLine();
        Console.WriteLine($"elapsed     {seconds:0.00} s (measured phase, until the last in-flight request finished)");
        Console.WriteLine($"requests    {result.Requests} ({result.Accepted} x 202, {result.Rejected} other status, {result.TransportErrors} transport errors)");
        Console.WriteLine($"accepted    {result.AcceptedItems} items, {itemsPerSecond:0} items/s, {result.Accepted / seconds:0.0} requests/s");
        Console.WriteLine($"latency     {LatencyLine(all)} (all responses, ms)");
        if (result.Rejected > 0)
        {
            Console.WriteLine($"latency 202 {LatencyLine(accepted)} (accepted only, ms)");
        }

        string peakMb = "n/a";
        if (target.ServerPid is { } pid)
        {
            if (serverAfter is null)
            {
                Console.WriteLine($"server      PID {pid}: /proc/{pid}/status not readable (gone?)");
            }
            else
            {
                peakMb = (serverAfter.VmHwmKb / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);
                Console.WriteLine($"server mem  peak RSS (VmHWM) {peakMb} MB, RSS now {serverAfter.VmRssKb / 1024.0:0.0} MB, {serverAfter.Threads} threads");
                if (serverBefore is not null)
                {
                    var cpuSeconds = (serverAfter.CpuTicks - serverBefore.CpuTicks) / ProcessSample.TicksPerSecond;
                    Console.WriteLine($"server cpu  {cpuSeconds:0.0} CPU-s in {seconds:0.0} s = {100 * cpuSeconds / seconds:0}% " +
                                      $"(of {Environment.ProcessorCount * 100}% on {Environment.ProcessorCount} cores)");
                }
            }
        }

        Console.WriteLine($"bench cpu   {selfCpu.TotalSeconds:0.0} CPU-s = {100 * selfCpu.TotalSeconds / seconds:0}% (this load generator shares the machine)");
        if (machineBefore is not null && machineAfter is not null)
        {
            var total = machineAfter.Total - machineBefore.Total;
            if (total > 0)
            {
                Console.WriteLine($"machine cpu {100.0 * (machineAfter.Busy - machineBefore.Busy) / total:0}% busy, " +
                                  $"{100.0 * (machineAfter.IoWait - machineBefore.IoWait) / total:0}% iowait, " +
                                  $"{100.0 * (machineAfter.Steal - machineBefore.Steal) / total:0}% steal (all cores, /proc/stat)");
            }
        }

        result.PrintFailures();

        // One line for scripts.
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT requests={result.Requests} accepted={result.Accepted} non202={result.Rejected} errors={result.TransportErrors} items_per_s={itemsPerSecond:0} p50_ms={Percentile(all, 0.50):0.0} p90_ms={Percentile(all, 0.90):0.0} p99_ms={Percentile(all, 0.99):0.0} max_ms={(all.Length == 0 ? 0 : all[^1]):0.0} peak_mb={peakMb}"));
    }

    private static string LatencyLine(double[] sorted) => sorted.Length == 0
        ? "no responses"
        : FormattableString.Invariant($"p50 {Percentile(sorted, 0.50):0.0}  p90 {Percentile(sorted, 0.90):0.0}  p99 {Percentile(sorted, 0.99):0.0}  max {sorted[^1]:0.0}");

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    private static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Where the load goes: a server's URL and API key, and its PID when its memory and CPU are to be reported.</summary>
internal sealed record LoadTarget(Uri Url, string Key, int? ServerPid);

/// <summary>The command line (System.CommandLine): the load, and either a server of the caller's (--url, --key) or one started here (--server-dll).</summary>
internal sealed record BenchOptions
{
    /// <summary>A server of the caller's; null when <see cref="OwnServer"/> is set.</summary>
    public LoadTarget? Target { get; init; }

    /// <summary>The server this tool starts (--server-dll); null when <see cref="Target"/> is set.</summary>
    public OwnServer? OwnServer { get; init; }

    public required int Concurrency { get; init; }

    public required int DurationSeconds { get; init; }

    public required int BatchSize { get; init; }

    public required int WarmupSeconds { get; init; }

    public string? LatenciesOut { get; init; }

    public TimeSpan RequestTimeout { get; } = TimeSpan.FromSeconds(30);

    public static RootCommand Command(Func<BenchOptions, CancellationToken, Task<int>> run)
    {
        var url = new Option<Uri?>("--url")
        {
            Description = "Base URL of a server of yours (loopback only: 127.0.0.0/8, ::1 or localhost)",
            HelpName = "URL",
            CustomParser = ParseLoopbackUrl,
        };
        var key = new Option<string>("--key") { Description = "With --url: its API key, sent as the Authorization header", HelpName = "KEY" };
        var serverPid = new Option<int?>("--server-pid")
        {
            Description = "With --url: the server's process ID, to report its peak memory (VmHWM) and CPU",
            HelpName = "PID",
            CustomParser = result => int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid >= 1
                ? pid
                : Error<int?>(result, $"--server-pid takes a process ID, not '{result.Tokens[0].Value}'"),
        };
        var server = new BenchServerOptions();
        server.ServerDll.Description = "Instead of --url: start this build of the server (its PeopleEnrich.dll) on a fresh SQLite file, or on --postgres";
        var postgres = new Option<string>("--postgres")
        {
            Description = "With --server-dll: an empty, throw-away PostgreSQL database instead of SQLite (the bench key is only created on first start)",
            HelpName = "CONNECTION_STRING",
        };
        var concurrency = BenchCommandLine.WholeNumber("--concurrency", "Requests in flight at once", 16, 1, 1024);
        var duration = BenchCommandLine.WholeNumber("--duration", "Measured seconds", 20, 1, 3600);
        var batchSize = BenchCommandLine.WholeNumber("--batch-size", "People per POST", 100, 1, 100);
        var warmup = BenchCommandLine.WholeNumber("--warmup", "Unmeasured warm-up seconds first", 2, 0, 600);
        var latenciesOut = new Option<string>("--latencies-out") { Description = "Also write every measured latency (ms, one a line) to this file", HelpName = "FILE" };

        var command = BenchCommandLine.Root(
            "Drives POST /api/v2/people/enrich at a fixed concurrency for a fixed time and reports what the server accepted, " +
            "how fast it answered and how much memory it needed at peak. Loopback only.",
            server, url, key, serverPid, postgres, concurrency, duration, batchSize, warmup, latenciesOut);
        command.Validators.Add(result =>
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            if (Given(url) == Given(server.ServerDll))
            {
                result.AddError("give either --url and --key (a server of yours) or --server-dll (a server started here)");
            }
            else if (Given(url) && !Given(key))
            {
                result.AddError("--url needs --key");
            }
            else if (Given(url) && (Given(postgres) || Given(server.PidFile) || Given(server.KeepLogs)))
            {
                result.AddError("--postgres, --pid-file and --keep-logs go with --server-dll");
            }
            else if (Given(server.ServerDll) && (Given(key) || Given(serverPid)))
            {
                result.AddError("--key and --server-pid go with --url: the server started here has its own key and PID");
            }
        });
        command.SetAction((parsed, cancellationToken) => run(new BenchOptions
        {
            Target = parsed.GetValue(url) is { } target ? new LoadTarget(target, parsed.GetRequiredValue(key), parsed.GetValue(serverPid)) : null,
            OwnServer = parsed.GetValue(server.ServerDll) is null ? null : new OwnServer(server.From(parsed), parsed.GetValue(postgres)),
            Concurrency = parsed.GetValue(concurrency),
            DurationSeconds = parsed.GetValue(duration),
            BatchSize = parsed.GetValue(batchSize),
            WarmupSeconds = parsed.GetValue(warmup),
            LatenciesOut = parsed.GetValue(latenciesOut),
        }, cancellationToken));
        return command;
    }

    private static Uri? ParseLoopbackUrl(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Error<Uri?>(result, "--url must be an absolute http(s) URL");
        }

        var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
        return loopback ? uri : Error<Uri?>(result, $"--url must point at this machine (loopback), not '{uri.Host}'");
    }

    private static T? Error<T>(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default;
    }
}

/// <summary>Distinct people: every person of the run gets its own sequence number.</summary>
internal sealed class PeopleGenerator(int batchSize)
{
    private static readonly string[] FirstNames =
    [
        "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
        "Radia", "Dennis", "Sophie", "Tim", "Hedy", "Claude", "Karen", "Niklaus", "Adele", "Leslie",
        "Anita", "Bjarne", "Shafi", "Guido", "Jean", "Linus", "Mary", "Tony", "Katherine", "Vint",
    ];

    private static readonly string[] LastNames =
    [
        "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy", "Hamilton", "Thompson",
        "Perlman", "Ritchie", "Wilson", "Berners-Lee", "Lamarr", "Shannon", "Jones", "Wirth", "Goldberg", "Lamport",
        "Borg", "Stroustrup", "Goldwasser", "van Rossum", "Sammet", "Torvalds", "Keller", "Hoare", "Johnson", "Cerf",
    ];

    private static readonly string[] Companies =
    [
        "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne",
        "soylent", "aperture", "vandelay", "gringotts", "oscorp", "dunder", "pied-piper", "massive", "zorg", "monarch",
    ];

    private static readonly string[] Tlds = ["com", "io", "co.uk", "de", "fr", "net"];

    private long _next;

    public void WriteBody(IBufferWriter<byte> output)
    {
        var first = Interlocked.Add(ref _next, batchSize) - batchSize;
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteStartArray("requests");
        for (var i = 0; i < batchSize; i++)
        {
            var n = first + i;
            json.WriteStartObject();
            json.WriteString("firstname", FirstNames[n % FirstNames.Length]);
            // The sequence number keeps every row of the run distinct.
            json.WriteString("lastname", $"{LastNames[n / FirstNames.Length % LastNames.Length]} {n.ToString(CultureInfo.InvariantCulture)}");
            json.WriteString("domain", $"{Companies[n % Companies.Length]}{n % 9973}.{Tlds[n % Tlds.Length]}");
            json.WriteStartArray("enrich_fields");
            json.WriteStringValue("contact.emails");
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}

internal sealed class PhaseResult
{
    private const int MaxReportedFailures = 5;
    private readonly Lock _gate = new();
    private readonly List<string> _failures = [];
    private readonly List<double> _latencies = [];
    private readonly List<double> _acceptedLatencies = [];
    private long _accepted;
    private long _acceptedItems;
    private long _rejected;
    private long _transportErrors;

    public TimeSpan Elapsed { get; set; }

    public long Accepted => Interlocked.Read(ref _accepted);

    public long AcceptedItems => Interlocked.Read(ref _acceptedItems);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long TransportErrors => Interlocked.Read(ref _transportErrors);

    public long Requests => Accepted + Rejected + TransportErrors;

    public void AddAccepted(int items)
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Add(ref _acceptedItems, items);
    }

    public void AddRejected(int status, string body)
    {
        Interlocked.Increment(ref _rejected);
        Remember($"HTTP {status}: {Truncate(body)}");
    }

    public void AddTransportError(Exception exception)
    {
        Interlocked.Increment(ref _transportErrors);
        Remember($"{exception.GetType().Name}: {Truncate(exception.Message)}");
    }

    public void AddLatencies(List<double> all, List<double> accepted)
    {
        lock (_gate)
        {
            _latencies.AddRange(all);
            _acceptedLatencies.AddRange(accepted);
        }
    }

    public double[] SortedLatencies() => Sorted(_latencies);

    public double[] SortedAcceptedLatencies() => Sorted(_acceptedLatencies);

    public void PrintFailures()
    {
        lock (_gate)
        {
            if (_failures.Count == 0)
            {
                return;
            }

            Console.WriteLine($"first {_failures.Count} failures:");
            foreach (var failure in _failures)
            {
                Console.WriteLine($"  {failure}");
            }
        }
    }

    private double[] Sorted(List<double> values)
    {
        lock (_gate)
        {
            var array = values.ToArray();
            Array.Sort(array);
            return array;
        }
    }

    private void Remember(string failure)
    {
        lock (_gate)
        {
            if (_failures.Count < MaxReportedFailures)
            {
                _failures.Add(failure);
            }
        }
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "…";
}

/// <summary>What /proc says about the server process: memory high-water mark, RSS, threads, CPU ticks.</summary>
internal sealed record ProcessSample(long VmHwmKb, long VmRssKb, int Threads, long CpuTicks)
{
    // USER_HZ: 100 on every mainstream Linux build (getconf CLK_TCK).
    public const double TicksPerSecond = 100.0;

    public static ProcessSample? Read(int pid)
    {
        try
        {
            long hwm = 0, rss = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kilobytes(line);
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
                }
            }

            // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcessSample(hwm, rss, threads, ticks);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

/// <summary>Whole-machine CPU counters from the first line of /proc/stat.</summary>
internal sealed record MachineCpu(long Total, long Busy, long IoWait, long Steal)
{
    public static MachineCpu? Read()
    {
        try
        {
            var parts = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // cpu user nice system idle iowait irq softirq steal ...
            var v = parts.Skip(1).Take(8).Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            var total = v.Sum();
            var idle = v[3] + v[4];
            return new MachineCpu(total, total - idle - v[7], v[4], v[7]);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
