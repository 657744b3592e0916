using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PeopleEnrich.Storage;

public static class StorageSetup
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => Database.FromConfiguration(configuration));
        services.AddSingleton<Migrator>();
        services.AddSingleton<DatabaseWakeups>();
        return services;
    }

    /// <summary>The listener for other processes' wake-ups (PostgreSQL): what a process that waits for work runs, once however many rooms ask.</summary>
    public static IServiceCollection AddDatabaseWakeups(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DatabaseWakeups>(provider => provider.GetRequiredService<DatabaseWakeups>()));
        return services;
    }
}
