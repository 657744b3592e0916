using Microsoft.Extensions.Options;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Sources.EmailFinder;
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
        services.AddEnrichmentSource<DirectorySource>();
        services.AddEnrichmentSource<EmailFinderSource>();
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
            .Validate(smtp => string.IsNullOrWhiteSpace(smtp.Socks5Proxy), "Smtp:Socks5Proxy is not supported yet: verify from a host whose outbound port 25 is open, or unset it.")
            .ValidateOnStart();
        services.AddSingleton<NetworkGuard>();
        services.AddSingleton<MailDns>();
        services.AddSingleton<MailboxProber>();
        services.AddSingleton<DomainSessions>();
        services.AddSingleton<DomainKnowledge>();
        return services;
    }
}
