using System.Reflection;
using Dapper;

namespace PeopleEnrich.Storage;

/// <summary>
/// Applies the numbered scripts in Storage/Migrations once each, in order, recording them in
/// schema_migrations. Several processes may start at once: PostgreSQL serialises them with an
/// advisory lock, SQLite with its write lock.
/// </summary>
public sealed class Migrator(Database database, TimeProvider time, ILogger<Migrator> logger)
{
    private const long AdvisoryLockKey = 0x5065_6F70_6C65; // "People"

    /// <summary>The few words the two providers spell differently.</summary>
    private string Dialect(string sql) => database.IsPostgres
        ? sql.Replace("{{BLOB}}", "BYTEA").Replace("{{IDENTITY}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
        : sql.Replace("{{BLOB}}", "BLOB").Replace("{{IDENTITY}}", "INTEGER PRIMARY KEY AUTOINCREMENT");

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        const string prefix = "PeopleEnrich.Storage.Migrations.";
        var scripts = Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name => (Name: name[prefix.Length..^".sql".Length], Resource: name))
            .OrderBy(script => script.Name, StringComparer.Ordinal)
            .ToList();

        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.IsPostgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode = WAL", cancellationToken: cancellationToken));
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                cancellationToken: cancellationToken));
            foreach (var (name, resource) in scripts)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var applied = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM schema_migrations WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken));
                if (applied > 0)
                {
                    continue;
                }

                await using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)!;
                using var reader = new StreamReader(stream);
                var sql = Dialect(await reader.ReadToEndAsync(cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (@name, @at)",
                    new { name, at = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Migration} on {Database}", name, database.Description);
            }
        }
        finally
        {
            if (database.IsPostgres)
            {
                await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }, cancellationToken: CancellationToken.None));
            }
        }
    }
}
