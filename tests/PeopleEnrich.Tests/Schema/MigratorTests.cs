using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.EmailFinder;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Schema;

/// <summary>
/// The schema's migrations on a real database, each "process" with a connection pool of its own: every script once,
/// however many processes start together, and an up-to-date database recognised without waiting for the lock that
/// migrating processes take in turn.
/// </summary>
public abstract class MigratorTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private readonly List<Database> _processes = [];
    private readonly CapturedLogs _logs = new();
    private TestDatabase _database = null!;

    /// <summary>The scripts this build carries, read from its resources as the migrator's own list is.</summary>
    protected static readonly string[] Scripts = [.. typeof(Migrator).Assembly.GetManifestResourceNames()
        .Where(name => name.StartsWith("PeopleEnrich.Storage.Migrations.", StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))];

    public async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync(TProvider.Name);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _logs.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_new_database_gets_every_script_once_and_the_next_start_applies_nothing()
    {
        Assert.NotEmpty(Scripts);

        await MigratorOf(Process()).MigrateAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Scripts.Length, Applied());
        var recorded = await RecordedAsync();
        Assert.Equal(Scripts.Length, recorded.Count);

        await MigratorOf(Process()).MigrateAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Scripts.Length, Applied());
        Assert.Equal(recorded, await RecordedAsync());
    }

    [Fact]
    public async Task Processes_starting_together_on_a_new_database_apply_each_script_once_between_them()
    {
        var processes = Enumerable.Range(0, 4).Select(_ => MigratorOf(Process())).ToList();

        await Task.WhenAll(processes.Select(p => p.MigrateAsync(TestContext.Current.CancellationToken)));

        Assert.Equal(Scripts.Length, Applied());
        Assert.Equal(Scripts.Length, (await RecordedAsync()).Count);
    }

    [Fact]
    public async Task An_up_to_date_database_is_recognised_while_another_process_holds_the_migration_lock()
    {
        await MigratorOf(Process()).MigrateAsync(TestContext.Current.CancellationToken);
        await using var holder = await HoldMigrationLockAsync();

        // Waiting for the lock would last until the holder lets go, which it does not: only the guard would end it.
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromMinutes(2));
        await MigratorOf(Process()).MigrateAsync(guard.Token);

        Assert.Equal(Scripts.Length, Applied());
    }

    /// <summary>What another process migrating holds: PostgreSQL's advisory lock, or SQLite's write lock.</summary>
    protected async Task<IAsyncDisposable> HoldMigrationLockAsync()
    {
        if (_database is PostgresTestDatabase postgres)
        {
            // Not pooled: closing it ends the session, and with it the lock, as a process that exits.
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = Migrator.AdvisoryLockKey });
            return connection;
        }

        var sqlite = new SqliteConnection($"Data Source={((SqliteTestDatabase)_database).Path}");
        await sqlite.OpenAsync(TestContext.Current.CancellationToken);
        await sqlite.ExecuteAsync("BEGIN IMMEDIATE");
        return sqlite;
    }

    protected int Applied() => _logs.Messages.Count(m => m.StartsWith("Applied migration ", StringComparison.Ordinal));

    protected Migrator MigratorOf(Database process) => new(process, TimeProvider.System, new LoggerFactory([_logs]).CreateLogger<Migrator>());

    protected async Task<List<string>> RecordedAsync()
    {
        await using var connection = await Process().OpenAsync(TestContext.Current.CancellationToken);
        return [.. await connection.QueryAsync<string>("SELECT name FROM schema_migrations ORDER BY name")];
    }

    /// <summary>A process of its own on the test's database: its own connections.</summary>
    protected Database Process()
    {
        var process = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(_database.Settings).Build());
        _processes.Add(process);
        return process;
    }
}

public sealed class SqliteMigratorTests : MigratorTests<Sqlite>;

public sealed class PostgresMigratorTests : MigratorTests<Postgres>
{
    [Fact]
    public async Task A_database_with_migrations_pending_waits_for_the_lock_and_applies_them_once_it_is_free()
    {
        await using var holder = await HoldMigrationLockAsync();

        var migrating = MigratorOf(Process()).MigrateAsync(TestContext.Current.CancellationToken);
        // The server shows the request queued behind the holder: the migrator asked for the lock and waits.
        await using (var watcher = await Process().OpenAsync(TestContext.Current.CancellationToken))
        {
            while (await watcher.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 0)
            {
                Assert.False(migrating.IsCompleted, "the migrator finished without waiting for the lock");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        Assert.Equal(0, Applied());
        await holder.DisposeAsync();
        await migrating;

        Assert.Equal(Scripts.Length, Applied());
    }
}
