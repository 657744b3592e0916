using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PeopleEnrich.Cluster;

public static class ClusterSetup
{
    /// <summary>
    /// The limits every process sharing the database keeps together (claims with a heartbeat, pacing, budgets over
    /// sliding windows), kept in the database: on PostgreSQL across all processes, on SQLite in its one process.
    /// </summary>
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection("Cluster"))
            .Validate(cluster => cluster.LeaseTtl >= TimeSpan.FromSeconds(3) && cluster.PollInterval > TimeSpan.Zero,
                "Cluster:LeaseTtl must be at least 3 seconds and Cluster:PollInterval more than 0.")
            .ValidateOnStart();
        services.TryAddSingleton<ClusterLeases>();
        services.TryAddSingleton<ClusterPacer>();
        services.TryAddSingleton<ClusterBudget>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterHeartbeat>());
        return services;
    }
}
