using PeopleEnrich.Testing;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// The built program (src/PeopleEnrich, same configuration as this test assembly) as a real child
/// process, for tests: an admin command run to its end (<see cref="RunAsync(TestDatabase, string[])"/>),
/// or the server on a test database (<see cref="StartServerAsync"/>).
/// </summary>
public static class ProgramRunner
{
    /// <summary>The folder holding PeopleEnrich.slnx.</summary>
    public static string SolutionRoot => BuiltApp.SolutionRoot;

    /// <summary>Runs the program to its end and returns what it printed; kills it and fails after <paramref name="timeout"/>.</summary>
    public static async Task<ProgramResult> RunAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        await using var program = AppProcess.Start(BuiltApp.InThisSolution, args, environment, workingDirectory);
        var exitCode = await program.WaitForExitAsync(timeout);
        return new ProgramResult(exitCode, program.StandardOutput, program.StandardError, program.Description);
    }

    /// <summary>Runs a command (an admin command, say) against <paramref name="database"/>, from a temporary working directory.</summary>
    public static Task<ProgramResult> RunAsync(TestDatabase database, params string[] args) =>
        RunAsync(args, EnvironmentFor(database));

    /// <summary>The server on <paramref name="database"/> (and on no other), with <paramref name="settings"/> on top; ready when this returns.</summary>
    /// <param name="arguments">After <c>--urls</c> (e.g. <c>--role worker</c>).</param>
    public static Task<ServerProcess> StartServerAsync(
        TestDatabase database, IReadOnlyDictionary<string, string?> settings, TimeSpan? stopTimeout = null, IReadOnlyList<string>? arguments = null)
    {
        var all = new Dictionary<string, string?>(database.Settings);
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var options = new ServerOptions { App = BuiltApp.InThisSolution, Settings = all, Arguments = arguments ?? [] };
        return ServerProcess.StartAsync(stopTimeout is { } timeout ? options with { StopTimeout = timeout } : options);
    }

    /// <summary>Configuration keys as environment variables ("ConnectionStrings:Sqlite" is "ConnectionStrings__Sqlite").</summary>
    public static Dictionary<string, string?> EnvironmentFor(IReadOnlyDictionary<string, string?> settings) => AppEnvironment.From(settings);

    /// <summary>The environment that points the program at <paramref name="database"/> (and at no other).</summary>
    public static Dictionary<string, string?> EnvironmentFor(TestDatabase database) => EnvironmentFor(database.Settings);
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
