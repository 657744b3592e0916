using Npgsql;

namespace PeopleEnrich.Testing;

/// <summary>A fresh PostgreSQL database for a benchmark's run or configuration, so that none inherits another's domain knowledge or queue.</summary>
public static class FreshDatabase
{
    /// <returns>The connection string of a new database named <paramref name="prefix"/> and a random suffix, on <paramref name="server"/>.</returns>
    public static async Task<string> CreateAsync(string server, string prefix, CancellationToken cancellationToken)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await using (var db = NpgsqlDataSource.Create(server))
        await using (var command = db.CreateCommand($"CREATE DATABASE {name}"))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }
}
