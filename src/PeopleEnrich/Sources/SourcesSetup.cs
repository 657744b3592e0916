using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Directory;

namespace PeopleEnrich.Sources;

public static class SourcesSetup
{
    /// <summary>The waterfall, in order: each source is asked only for what the ones before it did not find.</summary>
    public static IServiceCollection AddSources(this IServiceCollection services)
    {
        services.AddDirectory();
        services.AddEnrichmentSource<DirectorySource>();
        return services;
    }

    /// <summary>The directory's storage and importer, shared by the server and the admin commands.</summary>
    public static IServiceCollection AddDirectory(this IServiceCollection services)
    {
        services.AddSingleton<DirectoryStore>();
        services.AddSingleton<DirectoryImporter>();
        return services;
    }
}
