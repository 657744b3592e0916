using Microsoft.Extensions.Options;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Uploads;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Pipeline;

public static class PipelineSetup
{
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection("Workers"))
            .Validate(WorkerOptions.IsValid, "Workers: Concurrency, MaxAttempts, HeartbeatInterval, MaxItemTime and IdlePollInterval must be positive, and LeaseDuration at least twice HeartbeatInterval.")
            .ValidateOnStart();
        services.AddOptions<WaterfallOptions>().Bind(configuration.GetSection("Waterfall"))
            .Validate(WaterfallOptions.IsValid, "Waterfall: SourceTimeout and every OutageRetryAfter must be positive.")
            .ValidateOnStart();
        services.AddResultsCache(configuration);
        services.AddSingleton<BatchStore>();
        services.AddSingleton<BatchListing>();
        services.AddSingleton<UploadStore>();
        services.AddSingleton<ItemQueue>();
        services.AddSingleton<WorkSignal>();
        services.AddSingleton<SourceWaterfall>();
        return services;
    }

    /// <summary>The workers of this process: what a process of the api role goes without.</summary>
    public static IServiceCollection AddWorkers(this IServiceCollection services)
    {
        // The stop waits for the items in flight (Workers:ShutdownGrace), then for their hand-back and the SMTP goodbyes.
        services.AddOptions<HostOptions>().Configure<IOptions<WorkerOptions>>((host, workers) =>
        {
            host.ShutdownTimeout = workers.Value.ShutdownGrace + TimeSpan.FromSeconds(15);
            host.ServicesStopConcurrently = true; // the workers start handing back while the server finishes its requests
        });
        services.AddSingleton(provider => WorkerIdentity.From(provider.GetRequiredService<IOptions<WorkerOptions>>(), provider.GetRequiredService<ILogger<WorkerIdentity>>()));
        services.AddDatabaseWakeups();
        services.AddHostedService<EnrichmentWorkers>();
        services.AddHostedService<QueueGauges>();
        services.AddSingleton<IExpiringRows, ExpiredRequests>();
        // An upload's file is kept as long as the answers of its requests, no longer.
        services.AddExpiringRows("CSV uploads", "csv_uploads", "created_at < @cutoff", provider => provider.GetRequiredService<IOptions<RetentionOptions>>().Value.Results);
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
