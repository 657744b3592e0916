using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Testing;

/// <summary>
/// One run of the built app as a child process (<c>dotnet PeopleEnrich.dll args…</c>): what it printed,
/// line by line, bounded waits for a line or for its exit, SIGTERM and SIGKILL. Disposing it kills the
/// whole process tree if it still runs. For an admin command run to its end; for the server, use
/// <see cref="ServerProcess"/>, which is built on this.
/// </summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    /// <summary>How long a wait may take when the caller names no limit.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    private const int SigTerm = 15;

    private readonly Lock _gate = new();
    private readonly List<OutputLine> _output = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _lineWaiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _ownFolder;
    private StreamWriter? _log;

    private AppProcess(ProcessStartInfo start, IReadOnlyList<string> arguments, string? ownFolder, string? logFile)
    {
        _ownFolder = ownFolder;
        Description = $"'PeopleEnrich {string.Join(' ', arguments)}' (in {start.WorkingDirectory})";
        if (logFile is not null)
        {
            // Appended: a restarted server's runs follow one another in one file.
            _log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        }

        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => Received(e.Data, isError: false, _stdoutClosed);
        Process.ErrorDataReceived += (_, e) => Received(e.Data, isError: true, _stderrClosed);
        if (!Process.Start())
        {
            _log?.Dispose();
            throw new InvalidOperationException($"Could not start {Description}.");
        }

        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    /// <summary>The command line and working directory, for messages.</summary>
    public string Description { get; }

    /// <summary>Everything printed on stdout so far.</summary>
    public string StandardOutput => Joined(isError: false);

    /// <summary>Everything printed on stderr so far.</summary>
    public string StandardError => Joined(isError: true);

    /// <summary>The lines of stdout and stderr so far, in the order they arrived.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return _output.Select(l => l.Text).ToList();
            }
        }
    }

    public bool HasExited => Process.HasExited;

    /// <summary>
    /// Starts the app with <paramref name="arguments"/>. <paramref name="environment"/> is applied as
    /// <see cref="AppEnvironment.Apply"/> says. The working directory defaults to a new temporary folder,
    /// deleted on dispose, so that nothing depends on where the caller runs. <paramref name="logFile"/>,
    /// when given, gets every line too.
    /// </summary>
    public static AppProcess Start(
        BuiltApp app, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null, string? logFile = null)
    {
        var argumentList = arguments.ToList();
        var ownFolder = workingDirectory is null ? Directory.CreateTempSubdirectory("peopleenrich-run-").FullName : null;
        var start = new ProcessStartInfo(BuiltApp.DotnetHost)
        {
            WorkingDirectory = workingDirectory ?? ownFolder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(app.DllPath);
        foreach (var argument in argumentList)
        {
            start.ArgumentList.Add(argument);
        }

        AppEnvironment.Apply(start, environment ?? new Dictionary<string, string?>());
        return new AppProcess(start, argumentList, ownFolder, logFile);
    }

    /// <summary>
    /// The first line (stdout or stderr, already printed or still to come) that <paramref name="match"/>
    /// accepts. Throws <see cref="TimeoutException"/> when the app ends without printing one, or after
    /// <paramref name="timeout"/> (the app keeps running: dispose it).
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_output.FirstOrDefault(l => match(l.Text)) is { } existing)
            {
                return existing.Text;
            }

            _lineWaiters.Add((match, found));
        }

        var limit = timeout ?? DefaultTimeout;
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ended = Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);
        var first = await Task.WhenAny(found.Task, ended, Task.Delay(limit, stopWaiting.Token));
        await stopWaiting.CancelAsync();
        if (first == found.Task)
        {
            return await found.Task;
        }

        lock (_gate)
        {
            _lineWaiters.RemoveAll(w => w.Found == found);
        }

        if (found.Task.IsCompleted)
        {
            return await found.Task;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new TimeoutException(first == ended
            ? $"{Description} ended (exit code {ExitCodeOrNone()}) without printing the line waited for.\n{Output()}"
            : $"{Description} did not print the line waited for within {limit.TotalSeconds:0} s.\n{Output()}");
    }

    /// <summary>Waits for a line containing <paramref name="text"/>.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal), timeout, cancellationToken);

    /// <summary>For a server started with --urls http://127.0.0.1:0: the address Kestrel reports it listens on.</summary>
    public async Task<Uri> WaitForListeningAddressAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var line = await WaitForLineAsync(l => ListeningLine().IsMatch(l), timeout, cancellationToken);
        return new Uri(ListeningLine().Match(line).Groups["address"].Value);
    }

    /// <summary>
    /// Waits for the app to exit and for its output to be read to the end, and returns its exit code.
    /// After <paramref name="timeout"/> the process tree is killed and this throws <see cref="TimeoutException"/>.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await WaitForExitAndOutputAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"{Description} did not end within {limit.TotalSeconds:0} s and was killed.\n{Output()}");
        }

        return Process.ExitCode;
    }

    /// <summary>
    /// SIGTERM, as a service manager stops a service, then SIGKILL if it still runs after
    /// <paramref name="grace"/>; waits until it has ended and returns its exit code. Not cancellable:
    /// a stop given up half-way would leave the process behind.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!Process.HasExited)
        {
            Terminate();
            using var deadline = new CancellationTokenSource(grace);
            try
            {
                await WaitForExitAndOutputAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                Kill();
            }
        }

        await WaitForExitAndOutputAsync(CancellationToken.None);
        return Process.ExitCode;
    }

    /// <summary>Kills the process and everything it started (SIGKILL): a crash, as far as the app can tell.</summary>
    public void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    /// <summary>Asks the app to stop (SIGTERM), as a service manager does; wait with <see cref="WaitForExitAsync"/>.</summary>
    public void Terminate()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("SIGTERM is a POSIX signal; use Kill() on Windows.");
        }

        if (!Process.HasExited && SendSignal(Process.Id, SigTerm) != 0 && !Process.HasExited)
        {
            throw new InvalidOperationException($"kill({Process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            // Leave it: nothing more can be done than SIGKILL.
        }

        Process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
        }

        if (_ownFolder is not null)
        {
            try
            {
                Directory.Delete(_ownFolder, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public override string ToString() => $"{Description}\n{Output()}";

    /// <summary>The last <paramref name="count"/> lines, for a message about what went wrong.</summary>
    public string Tail(int count) => string.Join('\n', Lines.TakeLast(count));

    private async Task WaitForExitAndOutputAsync(CancellationToken cancellationToken)
    {
        await Process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancellationToken);
    }

    private void Received(string? line, bool isError, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_gate)
        {
            _output.Add(new OutputLine(line, isError));
            _log?.WriteLine(line);
            foreach (var waiter in _lineWaiters.Where(w => w.Match(line)).ToList())
            {
                _lineWaiters.Remove(waiter);
                matched.Add(waiter.Found);
            }
        }

        foreach (var found in matched)
        {
            found.TrySetResult(line);
        }
    }

    private string Joined(bool isError)
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            foreach (var line in _output.Where(l => l.IsError == isError))
            {
                text.Append(line.Text).Append('\n');
            }

            return text.ToString();
        }
    }

    private string Output() => $"stdout:\n{StandardOutput}\nstderr:\n{StandardError}";

    private string ExitCodeOrNone() => Process.HasExited ? Process.ExitCode.ToString(CultureInfo.InvariantCulture) : "none yet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"Now listening on: (?<address>https?://\S+)")]
    private static partial Regex ListeningLine();

    private sealed record OutputLine(string Text, bool IsError);
}
