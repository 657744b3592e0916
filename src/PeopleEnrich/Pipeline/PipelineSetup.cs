using Microsoft.Extensions.Options;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Pipeline;

public static class PipelineSetup
{
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WorkerOptions>(configuration.GetSection("Workers"));
        services.AddOptions<WaterfallOptions>().Bind(configuration.GetSection("Waterfall"))
            .Validate(WaterfallOptions.IsValid, "Waterfall: SourceTimeout and every OutageRetryAfter must be positive.")
            .ValidateOnStart();
        services.AddResultsCache(configuration);
        services.AddSingleton<BatchStore>();
        services.AddSingleton<ItemQueue>();
        services.AddSingleton<WorkSignal>();
        services.AddSingleton<SourceWaterfall>();
        services.AddHostedService<EnrichmentWorkers>();
        services.AddHostedService<QueueGauges>();
        services.AddSingleton<IExpiringRows, ExpiredRequests>();
        services.AddExpiringRows("cached answers", "results_cache", "stored_at < @cutoff", provider => provider.GetRequiredService<IOptions<CacheOptions>>().Value.Ttl);
        return services;
    }

    /// <summary>Shared with the admin commands, whose directory imports forget what they may have changed.</summary>
    public static IServiceCollection AddResultsCache(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<CacheOptions>(configuration.GetSection("Cache"));
        services.AddSingleton<ResultsCache>();
        return services;
    }
}
