using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// For tests that build part of the app on their own service collection (the upstream sources): a database of its
/// own, a migrated SQLite file in a temporary folder that goes when the services are disposed. What is shared
/// through the database (an upstream's pacing) needs one.
/// </summary>
public static class TemporaryDatabase
{
    public static IServiceCollection AddTemporaryDatabase(this IServiceCollection services)
    {
        services.AddSingleton<SqliteTestDatabase>();
        services.AddSingleton(provider =>
        {
            var file = provider.GetRequiredService<SqliteTestDatabase>();
            var database = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(file.Settings).Build());
            // Service factories are synchronous; this runs once, before the first use.
            new Migrator(database, TimeProvider.System, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            return database;
        });
        return services;
    }
}
