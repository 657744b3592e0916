extern alias SimulatedWorld;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Storage;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// One process's email finder for tests of several processes on one database: its own services (the finder, its lanes,
/// leases and connections) on the test's database, pointed at the simulated world, on the real clock.
/// </summary>
public static class FinderProcess
{
    public static async Task<ServiceProvider> StartAsync(TestDatabase database, World world)
    {
        var settings = new Dictionary<string, string?>(database.Settings);
        foreach (var (key, value) in WorldApp.SettingsFor(world))
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System).AddSingleton<IConfiguration>(configuration);
        services.AddStorage(configuration).AddSources(configuration);
        var process = services.BuildServiceProvider();
        await new Migrator(process.GetRequiredService<Database>(), TimeProvider.System, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
        return process;
    }

    /// <summary>The finder of <paramref name="process"/> asked about one person, as the waterfall asks it.</summary>
    public static Task<SourceFindings> FindAsync(ServiceProvider process, string first, string last, string domain) =>
        ActivatorUtilities.CreateInstance<EmailFinderSource>(process)
            .FindAsync(new PeopleEnrich.Vocabulary.Person(first, last, domain, null, null), EnrichFields.Emails, SourceContext.Empty, CancellationToken.None);
}
