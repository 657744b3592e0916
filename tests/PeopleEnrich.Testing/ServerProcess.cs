using System.Globalization;
using System.Net;

namespace PeopleEnrich.Testing;

/// <summary>
/// The app serving its API in a process of its own, as an operator runs it: on a free loopback port,
/// ready once it says where it listens and its /readyz answers. It can be stopped gracefully
/// (SIGTERM), crashed (SIGKILL) and restarted in the same working directory with the same settings,
/// so on the same database. Disposing it stops it (SIGKILL after <see cref="ServerOptions.StopTimeout"/>).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const string ListenOnAnyLoopbackPort = "http://127.0.0.1:0";
    private static readonly TimeSpan ReadinessPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ServerOptions _options;
    private readonly bool _ownsFolder;
    private AppProcess _process;

    private ServerProcess(ServerOptions options, string folder, bool ownsFolder, AppProcess process)
    {
        _options = options;
        Folder = folder;
        _ownsFolder = ownsFolder;
        _process = process;
    }

    /// <summary>Where the server listens; a restart changes it.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    public int Pid => _process.Pid;

    /// <summary>The working directory, the same across restarts.</summary>
    public string Folder { get; }

    /// <summary>The log file's full path, when <see cref="ServerOptions.LogFile"/> was given.</summary>
    public string? LogPath => _options.LogFile is { } log ? Path.Combine(Folder, log) : null;

    /// <summary>What the current run printed so far, stdout and stderr in the order they arrived.</summary>
    public IReadOnlyList<string> Lines => _process.Lines;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the server and waits until it is ready; on failure the process is gone and the exception holds its last lines.</summary>
    public static async Task<ServerProcess> StartAsync(ServerOptions options, CancellationToken cancellationToken = default)
    {
        var ownsFolder = options.WorkingDirectory is null;
        var folder = options.WorkingDirectory ?? Directory.CreateTempSubdirectory("peopleenrich-server-").FullName;
        var server = new ServerProcess(options, folder, ownsFolder, await LaunchAsync(options, folder, cancellationToken));
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the current run if it still runs (gracefully, as <see cref="StopAsync"/>), then starts the
    /// server again in the same folder with the same settings and waits until it is ready.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _process.StopAsync(_options.StopTimeout);
        await _process.DisposeAsync();
        _process = await LaunchAsync(_options, Folder, cancellationToken);
        await WaitUntilReadyAsync(cancellationToken);
    }

    /// <summary>SIGTERM, then SIGKILL after <see cref="ServerOptions.StopTimeout"/>; the exit code.</summary>
    public Task<int> StopAsync() => _process.StopAsync(_options.StopTimeout);

    /// <summary>SIGKILL, as a crash or the OOM killer would; waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the server to exit; after <paramref name="timeout"/> it is killed and this throws <see cref="TimeoutException"/>.</summary>
    public Task<int> WaitForExitAsync(TimeSpan? timeout = null) => _process.WaitForExitAsync(timeout);

    /// <summary>The first line of the current run containing <paramref name="text"/>; see <see cref="AppProcess.WaitForLineAsync(string, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _process.WaitForLineAsync(text, timeout, cancellationToken);

    /// <summary>The last <paramref name="count"/> lines of the current run.</summary>
    public string Tail(int count) => _process.Tail(count);

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(_options.StopTimeout);
        await _process.DisposeAsync();
        if (_ownsFolder && !_options.KeepFolder)
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public override string ToString() => $"{_process.Description} at {Url}";

    private static async Task<AppProcess> LaunchAsync(ServerOptions options, string folder, CancellationToken cancellationToken)
    {
        var environment = AppEnvironment.From(options.Settings);
        // The address is read from Kestrel's "Now listening on" line, so that line must be logged whatever appsettings.json says.
        environment.TryAdd("Logging__LogLevel__Microsoft.Hosting.Lifetime", "Information");
        foreach (var (name, value) in options.Environment)
        {
            environment[name] = value;
        }

        var logFile = options.LogFile is { } log ? Path.Combine(folder, log) : null;
        var process = AppProcess.Start(options.App, ["--urls", ListenOnAnyLoopbackPort, .. options.Arguments], environment, folder, logFile);
        if (options.PidFile is { } pidFile)
        {
            await File.AppendAllTextAsync(pidFile, process.Pid.ToString(CultureInfo.InvariantCulture) + "\n", cancellationToken);
        }

        return process;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.StartTimeout);
        try
        {
            Url = await _process.WaitForListeningAddressAsync(_options.StartTimeout, deadline.Token);
            using var handler = new SocketsHttpHandler { UseProxy = false };
            using var probe = new HttpClient(handler) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
            while (!await IsReadyAsync(probe, deadline.Token))
            {
                if (_process.HasExited)
                {
                    throw ExitedDuringStartUp();
                }

                await Task.Delay(ReadinessPollInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ServerStartException($"{_process.Description} was not ready within {_options.StartTimeout.TotalSeconds:0} s. Its last lines:\n{_process.Tail(40)}");
        }
        catch (TimeoutException exception)
        {
            throw _process.HasExited
                ? ExitedDuringStartUp()
                : new ServerStartException($"{_process.Description} did not say where it listens. Its last lines:\n{_process.Tail(40)}", exception);
        }
    }

    private ServerStartException ExitedDuringStartUp() =>
        new($"{_process.Description} exited with {_process.Process.ExitCode} during start-up. Its last lines:\n{_process.Tail(40)}");

    private static async Task<bool> IsReadyAsync(HttpClient probe, CancellationToken cancellationToken)
    {
        try
        {
            using var ready = await probe.GetAsync("/readyz", cancellationToken);
            return ready.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // that probe's own time-out
        }
    }
}

/// <summary>The server exited, or did not become ready in time; the message ends with its last lines.</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
