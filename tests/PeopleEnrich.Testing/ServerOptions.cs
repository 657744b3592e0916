namespace PeopleEnrich.Testing;

/// <summary>How to start the app as a server: <see cref="ServerProcess.StartAsync"/>.</summary>
public sealed record ServerOptions
{
    public required BuiltApp App { get; init; }

    /// <summary>Configuration keys ("Smtp:Port"), given to the app as environment variables; a null value unsets one.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Environment variables as they are, applied after <see cref="Settings"/>; a null value unsets one.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Arguments after <c>--urls http://127.0.0.1:0</c>, which is always given.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>
    /// The server's working directory, kept across restarts (a relative SQLite path lives there). Null:
    /// a new temporary folder, removed when the server is disposed unless <see cref="KeepFolder"/>.
    /// </summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Keep the temporary working directory (the database and log in it) after dispose.</summary>
    public bool KeepFolder { get; init; }

    /// <summary>A file that also gets every line the server prints; relative to the working directory.</summary>
    public string? LogFile { get; init; }

    /// <summary>Each started process's id is appended here at once, for a script that must clean up after a killed caller.</summary>
    public string? PidFile { get; init; }

    /// <summary>From the start until the server says where it listens and /readyz answers.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
