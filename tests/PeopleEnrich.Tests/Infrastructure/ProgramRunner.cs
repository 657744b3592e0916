using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// Runs the built program (src/PeopleEnrich, same configuration as this test assembly) as a real
/// child process: <c>dotnet PeopleEnrich.dll args…</c>, with the environment and working directory
/// given, its output captured line by line. For the admin commands use <see cref="RunAsync"/>; for
/// the server (or anything long-running) use <see cref="Start"/> and dispose the handle, which kills
/// the process tree.
/// </summary>
public static class ProgramRunner
{
    /// <summary>How long a command may run before it is killed and the test fails.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    private static readonly Lazy<string> SolutionFolder = new(FindSolutionFolder);

    /// <summary>The folder holding PeopleEnrich.slnx.</summary>
    public static string SolutionRoot => SolutionFolder.Value;

    /// <summary>Debug or Release: the configuration this test assembly was built in.</summary>
    public static string BuildConfiguration =>
        typeof(ProgramRunner).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } configuration
            ? configuration
            : throw new InvalidOperationException("The test assembly does not say which configuration it was built in.");

    /// <summary>net10.0: the target framework of this test assembly, which is the program's.</summary>
    public static string TargetFramework
    {
        get
        {
            var name = typeof(ProgramRunner).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName
                ?? throw new InvalidOperationException("The test assembly has no TargetFrameworkAttribute.");
            var version = new FrameworkName(name).Version;
            return $"net{version.Major}.{version.Minor}";
        }
    }

    /// <summary>src/PeopleEnrich/bin/&lt;configuration&gt;/&lt;tfm&gt;/PeopleEnrich.dll, which building the tests builds.</summary>
    public static string ProgramPath
    {
        get
        {
            var path = Path.Combine(SolutionRoot, "src", "PeopleEnrich", "bin", BuildConfiguration, TargetFramework, "PeopleEnrich.dll");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"The program is not built at {path}: build the solution in {BuildConfiguration} first.", path);
        }
    }

    /// <summary>The dotnet host that runs these tests (DOTNET_HOST_PATH, set by the dotnet CLI), else "dotnet" on the PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// Starts the program. <paramref name="environment"/> is added to this process's environment
    /// (less its ConnectionStrings__*, ASPNETCORE_* and DOTNET_ENVIRONMENT); a null value removes a
    /// variable. The working directory defaults to a new temporary folder, deleted on dispose, so that
    /// nothing depends on where the tests run.
    /// </summary>
    public static RunningProgram Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var arguments = args.ToList();
        var program = ProgramPath;
        var ownFolder = workingDirectory is null ? Directory.CreateTempSubdirectory("peopleenrich-run-").FullName : null;
        var start = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = workingDirectory ?? ownFolder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Nothing of the test host's own configuration leaks into the program.
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || k is "DOTNET_ENVIRONMENT").ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return new RunningProgram(start, arguments, ownFolder);
    }

    /// <summary>Runs the program to its end and returns what it printed; kills it and fails after <paramref name="timeout"/>.</summary>
    public static async Task<ProgramResult> RunAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        await using var program = Start(args, environment, workingDirectory);
        var exitCode = await program.WaitForExitAsync(timeout ?? DefaultTimeout);
        return new ProgramResult(exitCode, program.StandardOutput, program.StandardError, program.Description);
    }

    /// <summary>Runs a command (an admin command, say) against <paramref name="database"/>, from a temporary working directory.</summary>
    public static Task<ProgramResult> RunAsync(TestDatabase database, params string[] args) =>
        RunAsync(args, EnvironmentFor(database));

    /// <summary>Configuration keys as environment variables ("ConnectionStrings:Sqlite" is "ConnectionStrings__Sqlite").</summary>
    public static Dictionary<string, string?> EnvironmentFor(IReadOnlyDictionary<string, string?> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

    /// <summary>The environment that points the program at <paramref name="database"/> (and at no other).</summary>
    public static Dictionary<string, string?> EnvironmentFor(TestDatabase database) => EnvironmentFor(database.Settings);

    private static string FindSolutionFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PeopleEnrich.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No PeopleEnrich.slnx in {AppContext.BaseDirectory} or any folder above it.");
    }
}

/// <summary>A finished run of the program.</summary>
public sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError, string Description)
{
    /// <summary>The output lines (stdout), without trailing empty lines.</summary>
    public IReadOnlyList<string> OutputLines => Lines(StandardOutput);

    public IReadOnlyList<string> ErrorLines => Lines(StandardError);

    /// <summary>Fails the test, showing everything the program printed, unless it exited with 0.</summary>
    public ProgramResult AssertSucceeded()
    {
        Assert.True(ExitCode == 0, $"{Description} exited with {ExitCode}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        return this;
    }

    /// <summary>Fails the test unless the program exited with 1, printing nothing on stdout and one "error: …" line on stderr.</summary>
    public string AssertFailedWithError()
    {
        Assert.True(ExitCode == 1, $"{Description}: expected exit code 1, got {ExitCode}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        Assert.True(StandardOutput.Trim().Length == 0, $"{Description} failed but printed on stdout: {StandardOutput}");
        var error = Assert.Single(ErrorLines);
        Assert.StartsWith("error: ", error);
        return error["error: ".Length..];
    }

    public override string ToString() => $"{Description} → {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";

    private static List<string> Lines(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n').ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }
}

/// <summary>
/// A started program: its <see cref="Process"/>, what it printed so far, and bounded waits for a line
/// or for its exit. Disposing it kills the whole process tree if it still runs.
/// </summary>
public sealed partial class RunningProgram : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _lineWaiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _lines = [];
    private readonly string? _ownFolder;

    internal RunningProgram(ProcessStartInfo start, IReadOnlyList<string> arguments, string? ownFolder)
    {
        _ownFolder = ownFolder;
        Description = $"'PeopleEnrich {string.Join(' ', arguments)}' (in {start.WorkingDirectory})";
        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => Received(e.Data, _stdout, _stdoutClosed);
        Process.ErrorDataReceived += (_, e) => Received(e.Data, _stderr, _stderrClosed);
        if (!Process.Start())
        {
            throw new InvalidOperationException($"Could not start {Description}.");
        }

        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    /// <summary>The command line and working directory, for messages.</summary>
    public string Description { get; }

    /// <summary>Everything printed on stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything printed on stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The lines of stdout and stderr so far, in the order they arrived.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines.ToList();
            }
        }
    }

    public bool HasExited => Process.HasExited;

    /// <summary>
    /// The first line (stdout or stderr, already printed or still to come) that <paramref name="match"/>
    /// accepts. Throws when the program ends without printing one, or after <paramref name="timeout"/>
    /// (the program keeps running: dispose it).
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_lines.FirstOrDefault(match) is { } existing)
            {
                return existing;
            }

            _lineWaiters.Add((match, found));
        }

        var limit = timeout ?? ProgramRunner.DefaultTimeout;
        var ended = Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);
        var first = await Task.WhenAny(found.Task, ended, Task.Delay(limit));
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

        throw new TimeoutException(first == ended
            ? $"{Description} ended (exit code {ExitCodeOrNull()}) without printing the line waited for.\n{Output()}"
            : $"{Description} did not print the line waited for within {limit.TotalSeconds:0} s.\n{Output()}");
    }

    /// <summary>Waits for a line containing <paramref name="text"/>.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan? timeout = null) =>
        WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>For a server started with --urls http://127.0.0.1:0: the address Kestrel reports it listens on.</summary>
    public async Task<Uri> WaitForListeningAddressAsync(TimeSpan? timeout = null)
    {
        var line = await WaitForLineAsync(l => ListeningLine().IsMatch(l), timeout);
        return new Uri(ListeningLine().Match(line).Groups["address"].Value);
    }

    /// <summary>
    /// Waits for the program to exit and for its output to be read to the end, and returns its exit
    /// code. After <paramref name="timeout"/> the process tree is killed and this throws.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? ProgramRunner.DefaultTimeout;
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await Process.WaitForExitAsync(deadline.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"{Description} did not end within {limit.TotalSeconds:0} s and was killed.\n{Output()}");
        }

        return Process.ExitCode;
    }

    /// <summary>Kills the process and everything it started (SIGKILL): a crash, as far as the program can tell.</summary>
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

    /// <summary>Asks the program to stop (SIGTERM), as a service manager does; wait with <see cref="WaitForExitAsync"/>.</summary>
    public void Terminate()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("SIGTERM is a POSIX signal; use Kill() on Windows.");
        }

        if (!Process.HasExited && SendSignal(Process.Id, 15) != 0)
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

    private void Received(string? line, StringBuilder into, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_gate)
        {
            into.Append(line).Append('\n');
            _lines.Add(line);
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

    private string Output() => $"stdout:\n{StandardOutput}\nstderr:\n{StandardError}";

    private string ExitCodeOrNull() => Process.HasExited ? Process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none yet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"Now listening on: (?<address>https?://\S+)")]
    private static partial Regex ListeningLine();
}
