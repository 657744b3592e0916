using Microsoft.Extensions.DependencyInjection.Extensions;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Cluster;

public static class ClusterSetup
{
    /// <summary>
    /// The limits every process sharing the database keeps together (claims with a heartbeat, pacing, budgets over
    /// sliding windows), kept in the database: on PostgreSQL across all processes, on SQLite in its one process.
    /// </summary>
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(service => service.ServiceType == typeof(ClusterLeases)))
        {
            return services; // the email finder and the upstreams both ask for it
        }

        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection("Cluster"))
            .Validate(cluster => cluster.LeaseTtl >= TimeSpan.FromSeconds(3) && cluster.PollInterval > TimeSpan.Zero,
                "Cluster:LeaseTtl must be at least 3 seconds and Cluster:PollInterval more than 0.")
            .ValidateOnStart();
        services.TryAddSingleton<ClusterLeases>();
        services.TryAddSingleton<ClusterPacer>();
        services.TryAddSingleton<ClusterBudget>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterHeartbeat>());
        // Claims a dead process left behind, and the pacing of hosts and upstreams not asked for a day: kept, they would only grow.
        services.AddExpiringRows("claims of dead processes", "cluster_leases", "until_at < @cutoff", _ => TimeSpan.FromMinutes(1));
        services.AddExpiringRows("paces of hosts not asked lately", "cluster_pacing", "next_at < @cutoff", _ => TimeSpan.FromDays(1));
        return services;
    }
}
