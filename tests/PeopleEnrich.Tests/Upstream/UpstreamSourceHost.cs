using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Tests.EmailFinder;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// The upstream sources as the app builds them from its settings (AddUpstreams: the protocol's adapter,
/// the batcher, the HttpClient with its resilience pipeline), without the rest of the app: for tests
/// that look at what a source finds, its evidence's provenance included. Logs go to <see cref="Logs"/>, from Trace up.
/// </summary>
public sealed class UpstreamSourceHost(ServiceProvider services, CapturedLogs logs) : IAsyncDisposable
{
    public CapturedLogs Logs => logs;

    /// <summary>Upstreams:0, the waterfall's way.</summary>
    public IEnrichmentSource Source => services.GetServices<IEnrichmentSource>().First();

    public static UpstreamSourceHost Start(IReadOnlyDictionary<string, string?> settings, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var logs = new CapturedLogs();
        var collection = new ServiceCollection()
            .AddSingleton(time ?? TimeProvider.System)
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddTemporaryDatabase()
            .AddUpstreams(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services?.Invoke(collection);
        return new UpstreamSourceHost(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), logs);
    }

    public Task<SourceFindings> FindAsync(Person person, EnrichFields wanted = EnrichFields.Emails | EnrichFields.Phones) =>
        Source.FindAsync(person, wanted, SourceContext.Empty, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

    public ValueTask DisposeAsync() => services.DisposeAsync();
}
