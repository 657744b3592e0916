using Microsoft.Extensions.Options;
using PeopleEnrich.Cluster;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Privacy;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Sources.Website;
using PeopleEnrich.Storage.Retention;
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

    private static TimeSpan GreylistingKeptFor(IServiceProvider provider) => provider.GetRequiredService<GreylistSchedules>().KeptFor;

    private static TimeSpan KnowledgeTtl(IServiceProvider provider) => provider.GetRequiredService<IOptions<KnowledgeOptions>>().Value.Ttl;

    private static IServiceCollection AddEmailFinder(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddVerification(configuration);
        services.AddCluster(configuration);
        services.Configure<KnowledgeOptions>(configuration.GetSection("Knowledge"));
        services.AddSingleton<IMailHostMemory, MailHostMemory>();
        services.AddSingleton<IMailHostLimits, MailHostLimits>();
        services.AddSingleton<HostSlots>();
        services.AddSingleton<SendingBudget>();
        services.AddSingleton<IProbeMemory, SharedProbeAnswers>();
        services.AddSingleton<ILaneHandover, SharedLaneHandover>();
        services.AddSingleton<MailboxProber>();
        services.AddHealthChecks().AddCheck<ProbingHealthCheck>("smtp-probing", tags: ["ready"]);
        services.AddSingleton<DomainSessions>();
        services.AddSingleton<GreylistSchedules>();
        services.AddSingleton<DomainPlantings>();
        services.AddSingleton<SharedGreylisting>();
        services.AddSingleton<IRemembersAddresses, FinderMemory>();
        services.AddSingleton<DomainKnowledge>();
        services.AddSingleton<KnownRouting>();
        // What Knowledge:Ttl no longer trusts is deleted, not only ignored: addresses seen at a domain are personal data.
        services.AddExpiringRows("addresses seen at domains", "domain_addresses", "seen_at < @cutoff", KnowledgeTtl);
        services.AddExpiringRows("facts about domains", "domain_knowledge",
            "COALESCE(catch_all_at, 0) < @cutoff AND COALESCE(routing_at, 0) < @cutoff", KnowledgeTtl);
        services.AddExpiringRows("mail host standings", "mail_host_standing", "until_at < @cutoff", _ => TimeSpan.Zero);
        services.AddExpiringRows("recipient limits of mail hosts", "mail_host_limits", "learnt_at < @cutoff",
            provider => provider.GetRequiredService<IOptions<SmtpOptions>>().Value.HostLimitsTtl);
        services.AddExpiringRows("website crawls", "website_crawls", "crawled_at < @cutoff", KnowledgeTtl);
        // What every process heard at greylisting domains: no retry needs it past its schedule (candidate addresses, too, are personal data).
        services.AddExpiringRows("greylisting rounds of domains", "greylist_rounds", "last_at < @cutoff", GreylistingKeptFor);
        services.AddExpiringRows("recipients planted at greylisting domains", "greylist_planted", "planted_at < @cutoff", GreylistingKeptFor);
        services.AddExpiringRows("shapes handed over between domains' lanes", "lane_handovers", "handed_at < @cutoff", _ => SharedLaneHandover.KeptFor);
        return services;
    }
}
