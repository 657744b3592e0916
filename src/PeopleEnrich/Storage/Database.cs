using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace PeopleEnrich.Storage;

public enum DatabaseProvider { Sqlite, Postgres }

/// <summary>
/// The one place that knows which database is configured. Everything else asks it for an open
/// connection and, where SQL differs, for the provider.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    /// <summary>
    /// Seconds of silence on the listening connection before Npgsql asks the server for a sign of life, unless the connection
    /// string sets <c>Keepalive</c>: a connection a NAT forgot or a failover left behind says nothing, and a listener on
    /// it would wait for ever. Npgsql breaks the connection when the answer does not come within as long again, and the
    /// traffic keeps a NAT's memory of the connection fresh (they forget idle ones after minutes).
    /// </summary>
    private const int ListeningKeepAliveSeconds = 30;

    private readonly NpgsqlDataSource? _postgres;
    private readonly NpgsqlDataSource? _listening;
    private readonly string? _sqlite;

    // SQLite has one write lock per file. Writers of this process queue here, asynchronously, instead
    // of colliding on the lock: Microsoft.Data.Sqlite answers a taken lock by blocking its thread for
    // 150 ms before retrying, which is what the POST benchmark measured before this gate.
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    static Database()
    {
        // Columns are snake_case; the row classes are PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    private Database(DatabaseProvider provider, NpgsqlDataSource? postgres, NpgsqlDataSource? listening, string? sqlite)
    {
        Provider = provider;
        _postgres = postgres;
        _listening = listening;
        _sqlite = sqlite;
    }

    public DatabaseProvider Provider { get; }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>Where the data lives, for logs and readiness: never a password.</summary>
    public string Description { get; private init; } = "";

    /// <summary>"column {InAny("p")}" tests membership of a list parameter: Npgsql binds arrays, SQLite needs Dapper to expand them.</summary>
    public string InAny(string parameter) => IsPostgres ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary>
    /// Deletes, in a transaction of its own, the rows of <paramref name="table"/> whose <paramref name="column"/> is one of
    /// <paramref name="values"/> (names of ours, never input); no value, no statement. How many rows went.
    /// </summary>
    public Task<int> DeleteWhereAnyAsync(string table, string column, string[] values, CancellationToken cancellationToken) =>
        values.Length == 0
            ? Task.FromResult(0)
            : InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM {table} WHERE {column} {InAny("values")}", new { values }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The database the configuration names, without opening it: PostgreSQL when it has a connection string, SQLite otherwise.</summary>
    public static DatabaseProvider ProviderIn(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres")) ? DatabaseProvider.Sqlite : DatabaseProvider.Postgres;

    public static Database FromConfiguration(IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            var builder = new NpgsqlConnectionStringBuilder(postgres);
            return new Database(DatabaseProvider.Postgres, NpgsqlDataSource.Create(Tuned(builder)), NpgsqlDataSource.Create(ForListening(postgres)), null)
            {
                Description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}",
            };
        }

        var sqlite = new SqliteConnectionStringBuilder(
            configuration.GetConnectionString("Sqlite") is { Length: > 0 } configured
                ? configured
                : "Data Source=data/peopleenrich.db");
        // Relative paths are relative to the working directory, like any command-line tool's files.
        sqlite.DataSource = Path.GetFullPath(sqlite.DataSource);
        Directory.CreateDirectory(Path.GetDirectoryName(sqlite.DataSource)!);
        sqlite.Pooling = true;
        sqlite.DefaultTimeout = 30;
        return new Database(DatabaseProvider.Sqlite, null, null, sqlite.ToString())
        {
            Description = $"SQLite {sqlite.DataSource}",
        };
    }

    /// <summary>
    /// The connection string with what this program's use of connections allows, unless the operator chose otherwise:
    /// no DISCARD ALL each time a pooled connection is taken again (it leaves no session state behind: no SET, no
    /// temporary table, and its one advisory lock is unlocked explicitly), which also lets statements stay prepared
    /// (the frequent ones are, automatically): both spare PostgreSQL work on every statement.
    /// </summary>
    private static string Tuned(NpgsqlConnectionStringBuilder builder)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 50;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// The listening connection's: a connection of its own, not the pool's (it is held for the process's life, and one
    /// that broke or stopped is closed, never handed to anyone), with a keepalive (<see cref="ListeningKeepAliveSeconds"/>).
    /// </summary>
    private static string ForListening(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        if (!new DbConnectionStringBuilder { ConnectionString = connectionString }.ContainsKey("Keepalive"))
        {
            builder.KeepAlive = ListeningKeepAliveSeconds;
        }

        return builder.ConnectionString;
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_sqlite);
        await connection.OpenAsync(cancellationToken);
        // FULL: an accepted batch must survive power loss, not only a process crash. The busy timeout
        // covers writers in other processes (an admin command while the server runs).
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction that takes the write lock at once on SQLite
    /// (BEGIN IMMEDIATE, so two writers never deadlock upgrading a read lock) and is READ COMMITTED on
    /// PostgreSQL, where row locks and conditional UPDATEs keep the ledger exact.
    /// </summary>
    /// <param name="durable">
    /// False for writes whose loss in a power cut costs only repeated work (a claim's lease, a fact about a
    /// domain, a cached answer): SQLite then commits them without waiting for the disk (synchronous=NORMAL in
    /// WAL mode keeps them consistent, and the next durable commit flushes them too). A process crash loses
    /// nothing either way. PostgreSQL commits everything durably.
    /// </param>
    /// <remarks>Every write goes through here; reads use <see cref="OpenAsync"/> and never wait for writers.</remarks>
    public async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken, bool durable = true)
    {
        var gate = IsPostgres ? null : _sqliteWriter;
        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            var relaxed = !durable && !IsPostgres;
            if (relaxed)
            {
                await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous = NORMAL", cancellationToken: cancellationToken));
            }

            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            finally
            {
                if (relaxed)
                {
                    // Pooled connections keep their pragmas: the next user gets FULL again.
                    await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous = FULL", cancellationToken: CancellationToken.None));
                }
            }
        }
        finally
        {
            gate?.Release();
        }
    }

    /// <summary>
    /// A write that is one statement: on PostgreSQL in autocommit, one round trip instead of three (BEGIN, the
    /// statement, COMMIT), the statement being atomic by itself; on SQLite as <see cref="InTransactionAsync{T}"/>,
    /// behind this process's writer gate. The transaction given to <paramref name="statement"/> is null on PostgreSQL.
    /// </summary>
    public async Task<T> WriteOnceAsync<T>(Func<DbConnection, DbTransaction?, Task<T>> statement, CancellationToken cancellationToken, bool durable = true)
    {
        if (!IsPostgres)
        {
            return await InTransactionAsync((connection, transaction) => statement(connection, transaction), cancellationToken, durable);
        }

        await using var connection = await OpenAsync(cancellationToken);
        return await statement(connection, null);
    }

    /// <summary>
    /// Inside <paramref name="transaction"/>: tells every process listening on <paramref name="channel"/> (see
    /// <see cref="ListenAsync"/>) once it commits, and nobody if it rolls back. Nothing on SQLite, which is one process.
    /// </summary>
    public async Task NotifyAsync(DbConnection connection, DbTransaction? transaction, string channel, CancellationToken cancellationToken)
    {
        if (IsPostgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@channel, '')", new { channel }, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>
    /// PostgreSQL only: holds one connection listening on <paramref name="channels"/> and calls <paramref name="notified"/>
    /// with the channel of each notification, after <paramref name="listening"/> once the LISTENs are in place, until
    /// cancelled or the connection breaks (an exception), a silent one too: its keepalive goes unanswered. The connection
    /// is not the pool's (<see cref="ForListening"/>): closed at the end, its LISTENs end with it.
    /// </summary>
    public async Task ListenAsync(IReadOnlyCollection<string> channels, Action listening, Action<string> notified, CancellationToken cancellationToken)
    {
        if (_listening is null)
        {
            throw new InvalidOperationException("LISTEN needs PostgreSQL.");
        }

        await using var connection = await _listening.OpenConnectionAsync(cancellationToken);
        void OnNotification(object sender, NpgsqlNotificationEventArgs args) => notified(args.Channel);
        connection.Notification += OnNotification;
        try
        {
            foreach (var channel in channels)
            {
                // A channel is an identifier, not a value: quoted as one, never bound.
                await connection.ExecuteAsync(new CommandDefinition($"LISTEN \"{channel.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken: cancellationToken));
            }

            listening();
            while (true)
            {
                await connection.WaitAsync(cancellationToken);
            }
        }
        finally
        {
            connection.Notification -= OnNotification;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sqliteWriter.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        if (_listening is not null)
        {
            await _listening.DisposeAsync();
        }
    }
}
