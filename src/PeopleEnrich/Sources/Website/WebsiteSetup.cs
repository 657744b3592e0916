using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Sources.Website;

public static class WebsiteSetup
{
    /// <summary>The crawler and its store. Its guard, DNS and domain knowledge are the email finder's (registered beside it).</summary>
    public static IServiceCollection AddWebsite(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CrawlerOptions>().Bind(configuration.GetSection("Crawler"))
            .Validate(CrawlerOptions.IsValid,
                "Crawler: MaxPages must be at least 1, MaxBytes at least 1024, Timeout and CrawlTimeout positive, the ports 1-65535, "
                + "UserAgent must start with a product token, and TrustedCertificatePem must be a PEM certificate.")
            .ValidateOnStart();
        services.AddSingleton<GuardedHttp>();
        services.AddSingleton<CrawlerHttp>();
        services.AddSingleton<SiteCrawler>();
        services.AddSingleton<WebsiteStore>();
        services.AddSingleton<WebsiteCrawls>();
        return services;
    }
}
