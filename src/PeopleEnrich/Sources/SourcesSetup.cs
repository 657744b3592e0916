using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Sources.Website;
using PeopleEnrich.Verification;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources;

public static class SourcesSetup
{
    /// <summary>The waterfall, in order: each source is asked only for what the ones before it did not find.</summary>
    public static IServiceCollection AddSources(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddDirectory();
        services.AddEmailFinder(configuration);
        services.AddWebsite(configuration);
        services.AddEnrichmentSource<DirectorySource>();
        services.AddEnrichmentSource<WebsiteSource>();
        services.AddEnrichmentSource<EmailFinderSource>();
        services.AddUpstreams(configuration);
        return services;
    }

    /// <summary>The directory's storage and importer, shared by the server and the admin commands.</summary>
    public static IServiceCollection AddDirectory(this IServiceCollection services)
    {
        services.AddSingleton<DirectoryStore>();
        services.AddSingleton<DirectoryImporter>();
        return services;
    }

    private static IServiceCollection AddEmailFinder(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddVerification(configuration);
        services.Configure<KnowledgeOptions>(configuration.GetSection("Knowledge"));
        services.AddSingleton<IMailHostMemory, MailHostMemory>();
        services.AddSingleton<MailboxProber>();
        services.AddHealthChecks().AddCheck<ProbingHealthCheck>("smtp-probing", tags: ["ready"]);
        services.AddSingleton<DomainSessions>();
        services.AddSingleton<GreylistSchedules>();
        services.AddSingleton<DomainKnowledge>();
        services.AddSingleton<KnownRouting>();
        return services;
    }
}
