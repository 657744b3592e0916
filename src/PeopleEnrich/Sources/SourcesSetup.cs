using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Sources.Website;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;
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
        services.Configure<NetworkOptions>(configuration.GetSection("Network"));
        services.Configure<DnsOptions>(configuration.GetSection("Dns"));
        services.Configure<KnowledgeOptions>(configuration.GetSection("Knowledge"));
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection("Smtp"))
            .Validate(smtp => string.IsNullOrWhiteSpace(smtp.Socks5Proxy) || Uri.TryCreate(smtp.Socks5Proxy, UriKind.Absolute, out var proxy) && proxy.Scheme is "socks5" or "socks5h" && proxy.Port > 0,
                "Smtp:Socks5Proxy must look like socks5://[user:password@]host:port.")
            .ValidateOnStart();
        services.AddSingleton<NetworkGuard>();
        services.AddSingleton<MailDns>();
        services.AddSingleton<IMailHostMemory, MailHostMemory>();
        services.AddSingleton<MailboxProber>();
        services.AddHealthChecks().AddCheck<ProbingHealthCheck>("smtp-probing", tags: ["ready"]);
        services.AddSingleton<DomainSessions>();
        services.AddSingleton<DomainKnowledge>();
        services.AddSingleton<KnownRouting>();
        return services;
    }
}
