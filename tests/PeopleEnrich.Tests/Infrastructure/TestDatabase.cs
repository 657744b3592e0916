using Npgsql;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>A database of its own for one app under test: a fresh SQLite file, or a fresh PostgreSQL database.</summary>
public abstract class TestDatabase : IAsyncDisposable
{
    /// <summary>
    /// Every app and program a test starts gets these first: no SMTP, no website crawls, and DNS
    /// pointed at a closed loopback port, so that nothing a test submits can reach the machine's own
    /// resolvers or the internet. Tests of the email finder and the website source replace them with
    /// their simulated world. No traces go to a collector the caller's environment may name (OTEL_EXPORTER_OTLP_ENDPOINT).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> OfflineSettings { get; } = new Dictionary<string, string?>
    {
        ["Smtp:Enabled"] = "false",
        ["Crawler:Enabled"] = "false",
        ["Dns:Servers:0"] = "127.0.0.1:9",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
    };

    public abstract string Provider { get; }

    /// <summary>The configuration that points the app at this database.</summary>
    public abstract IReadOnlyDictionary<string, string?> Settings { get; }

    public abstract ValueTask DisposeAsync();

    public static async Task<TestDatabase> CreateAsync(string provider) => provider switch
    {
        "sqlite" => new SqliteTestDatabase(),
        "postgres" => await PostgresTestDatabase.CreateAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, null),
    };
}

public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly string _folder = Directory.CreateTempSubdirectory("peopleenrich-test-").FullName;

    public string Path => System.IO.Path.Combine(_folder, "peopleenrich.db");

    public override string Provider => "sqlite";

    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(OfflineSettings)
    {
        ["ConnectionStrings:Sqlite"] = $"Data Source={Path}",
    };

    public override ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A new database on the PostgreSQL server named by PEOPLEENRICH_TEST_POSTGRES (a connection string
/// to a loopback server; .ci/run starts one). Without it the PostgreSQL tests are skipped, unless
/// PEOPLEENRICH_REQUIRE_POSTGRES=1, as in CI, where a missing server fails them.
/// </summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    public const string ServerVariable = "PEOPLEENRICH_TEST_POSTGRES";
    public const string RequireVariable = "PEOPLEENRICH_REQUIRE_POSTGRES";

    private readonly string _server;
    private readonly string _name;

    private PostgresTestDatabase(string server, string name)
    {
        _server = server;
        _name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    public string ConnectionString { get; }

    public override string Provider => "postgres";

    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(OfflineSettings)
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
    };

    public static string? Server => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server ? server : null;

    /// <summary>The server's connection string, or a skip (a failure in CI) when none is configured.</summary>
    public static string RequireServer()
    {
        if (Server is { } server)
        {
            return server;
        }

        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.Fail($"{RequireVariable}=1 but {ServerVariable} is not set: the PostgreSQL tests cannot run.");
        }

        Assert.Skip($"No PostgreSQL server: set {ServerVariable} to a connection string (.ci/run does) to run the PostgreSQL tests.");
        throw new InvalidOperationException("unreachable");
    }

    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var server = RequireServer();
        var name = "pe_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new PostgresTestDatabase(server, name);
    }

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
