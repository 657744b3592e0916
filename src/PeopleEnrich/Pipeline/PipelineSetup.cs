using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Pipeline.Workers;

namespace PeopleEnrich.Pipeline;

public static class PipelineSetup
{
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WorkerOptions>(configuration.GetSection("Workers"));
        services.Configure<WaterfallOptions>(configuration.GetSection("Waterfall"));
        services.AddSingleton<BatchStore>();
        services.AddSingleton<ItemQueue>();
        services.AddSingleton<WorkSignal>();
        services.AddSingleton<Waterfall.Waterfall>();
        services.AddHostedService<EnrichmentWorkers>();
        return services;
    }
}
