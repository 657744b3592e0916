using Microsoft.Extensions.Options;
using PeopleEnrich.Cluster;
using PeopleEnrich.Pipeline.Waterfall;

namespace PeopleEnrich.Sources.Upstream;

public static class UpstreamSetup
{
    // A batch of 100 results is a few tens of kilobytes; an answer far larger is no provider's honest answer.
    private const long MaxAnswerBytes = 8 * 1024 * 1024;

    /// <summary>
    /// One source per Upstreams:N, in configuration order, after the sources registered before this call.
    /// Each has its own HttpClient and resilience pipeline (its own breaker and rate limit) and its own batcher.
    /// </summary>
    public static IServiceCollection AddUpstreams(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCluster(configuration);
        var section = configuration.GetSection(UpstreamsOptions.Section);
        services.AddOptions<UpstreamsOptions>().Configure(options => section.Bind(options.Upstreams)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<UpstreamsOptions>, UpstreamOptionsValidator>();
        services.AddSingleton<UpstreamProtocols>();

        // The protocols this server speaks. A provider with another API is one adapter, registered here
        // under the name that its Upstreams:N:Protocol gives.
        services.AddUpstreamProtocol(ContractUpstreamAdapter.Protocol, channel => new ContractUpstreamAdapter(channel));

        // How many there are is known now; what each is, once its settings are bound and validated.
        var count = section.GetChildren().Count();
        for (var index = 0; index < count; index++)
        {
            AddUpstream(services, index);
        }

        return services;
    }

    /// <summary>
    /// Lets Upstreams:N:Protocol name <paramref name="name"/>: such an upstream talks through the adapter that
    /// <paramref name="create"/> makes for it, inside the machinery every upstream shares.
    /// </summary>
    public static IServiceCollection AddUpstreamProtocol(this IServiceCollection services, string name, Func<UpstreamChannel, IUpstreamAdapter> create) =>
        services.AddSingleton(new UpstreamProtocol(name, create));

    private static void AddUpstream(IServiceCollection services, int index)
    {
        var clientName = UpstreamChannel.ClientName(index);
        services.AddHttpClient(clientName, (provider, http) =>
            {
                var upstream = Upstream(provider, index);
                // A trailing slash, so that the provider's paths go after the BaseUrl's own path (…/api/v2/people/enrich).
                http.BaseAddress = new Uri(upstream.BaseUrl.TrimEnd('/') + "/");
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline's time-outs are the ones that count
                http.MaxResponseContentBufferSize = MaxAnswerBytes;
            })
            // The factory logs requests at Trace with their headers: the key is in one (Authorization, for the contract).
            .RedactLoggedHeaders(_ => true)
            .AddResilienceHandler("resilience", (pipeline, context) => UpstreamResilience.Configure(
                pipeline,
                Upstream(context.ServiceProvider, index),
                context.ServiceProvider.GetRequiredService<TimeProvider>(),
                context.ServiceProvider.GetRequiredService<ClusterPacer>(),
                owned => context.OnPipelineDisposed(owned.Dispose)));

        // Not AddEnrichmentSource<T>(): there is one source per configured upstream, each with its own settings.
        services.AddSingleton<IEnrichmentSource>(provider =>
        {
            var upstream = Upstream(provider, index);
            var channel = new UpstreamChannel(provider.GetRequiredService<IHttpClientFactory>(), clientName, upstream);
            var adapter = provider.GetRequiredService<UpstreamProtocols>().Create(upstream.Protocol, channel);
            var batcher = new UpstreamBatcher(adapter, upstream, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<UpstreamBatcher>>());
            return new UpstreamSource(upstream, batcher, provider.GetRequiredService<ILogger<UpstreamSource>>());
        });
    }

    private static UpstreamOptions Upstream(IServiceProvider provider, int index)
    {
        var upstreams = provider.GetRequiredService<IOptions<UpstreamsOptions>>().Value.Upstreams;
        return index < upstreams.Count
            ? upstreams[index]
            : throw new InvalidOperationException($"{UpstreamsOptions.Section}:{index} was configured at start but is gone from the configuration.");
    }
}
