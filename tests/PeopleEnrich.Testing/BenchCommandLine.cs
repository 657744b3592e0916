using System.CommandLine;
using System.Globalization;

namespace PeopleEnrich.Testing;

/// <summary>What the benches' command lines share: whole-number options with a range, and how a bench is invoked.</summary>
public static class BenchCommandLine
{
    /// <summary>The exit code of a command line that does not parse (1 means a broken run to the scripts).</summary>
    public const int UsageError = 2;

    /// <summary>Longer than a server's graceful stop, so that a bench interrupted by Ctrl+C or SIGTERM still stops its servers.</summary>
    private static readonly TimeSpan StopOnSignalTimeout = TimeSpan.FromSeconds(30);

    /// <summary>An option taking a whole number from <paramref name="min"/> to <paramref name="max"/> (no sign, no separators).</summary>
    public static Option<int> WholeNumber(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return defaultValue;
            }

            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name} takes a whole number from {min} to {max}, not '{text}'");
            return defaultValue;
        },
    };

    /// <summary>A bench's root command: its own options, then those with which it starts the server.</summary>
    public static RootCommand Root(string description, BenchServerOptions server, params Option[] options)
    {
        var command = new RootCommand(description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        server.AddTo(command);
        return command;
    }

    /// <summary>
    /// Parses and runs. A mistake in the command line prints what is wrong and the help, and gives
    /// <see cref="UsageError"/>. Ctrl+C and SIGTERM cancel the action's token, which is given time to stop
    /// the servers it started.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        var exitCode = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = StopOnSignalTimeout });
        return parsed.Errors.Count > 0 ? UsageError : exitCode;
    }
}

/// <summary>The options with which a bench starts the server itself, and the <see cref="ServerOptions"/> they give.</summary>
public sealed class BenchServerOptions
{
    public Option<FileInfo> ServerDll { get; } = new Option<FileInfo>("--server-dll")
    {
        Description = "The server's built PeopleEnrich.dll (Release)",
        HelpName = "PATH",
    }.AcceptExistingOnly();

    public Option<string> PidFile { get; } = new("--pid-file")
    {
        Description = "Append each server's PID here (for the script's clean-up)",
        HelpName = "PATH",
    };

    public Option<bool> KeepLogs { get; } = new("--keep-logs")
    {
        Description = "Keep each server's temporary folder (database and log)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(ServerDll);
        command.Options.Add(PidFile);
        command.Options.Add(KeepLogs);
    }

    /// <summary>
    /// A server from --server-dll in a temporary folder of its own, logging to server.log there; the
    /// caller adds its settings (<c>options with { Settings = … }</c>). A SQLite file given as
    /// <c>Data Source=pe.db</c> lives in that folder too.
    /// </summary>
    public ServerOptions From(ParseResult parsed) => new()
    {
        App = new BuiltApp(parsed.GetRequiredValue(ServerDll).FullName),
        LogFile = "server.log",
        KeepFolder = parsed.GetValue(KeepLogs),
        PidFile = parsed.GetValue(PidFile),
    };
}
