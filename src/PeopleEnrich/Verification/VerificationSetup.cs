using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Verification;

public static class VerificationSetup
{
    /// <summary>
    /// What anything that talks to mail servers needs, bound from configuration: the settings of the network, DNS and
    /// SMTP, the network guard and the resolver. Shared by the email finder and the admin's doctor, so that both go
    /// through the same guard with the same settings.
    /// </summary>
    public static IServiceCollection AddVerification(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<NetworkOptions>(configuration.GetSection("Network"));
        services.Configure<DnsOptions>(configuration.GetSection("Dns"));
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection("Smtp"))
            .Validate(smtp => string.IsNullOrWhiteSpace(smtp.Socks5Proxy) || Uri.TryCreate(smtp.Socks5Proxy, UriKind.Absolute, out var proxy) && proxy.Scheme is "socks5" or "socks5h" && proxy.Port > 0,
                "Smtp:Socks5Proxy must look like socks5://[user:password@]host:port.")
            .Validate(smtp => smtp.MaxSessionsPerHost >= 1 && smtp.MaxRcptPerMinute >= 0 && smtp.MaxRcptPerDay >= 0,
                "Smtp:MaxSessionsPerHost must be at least 1, Smtp:MaxRcptPerMinute and Smtp:MaxRcptPerDay 0 (no budget) or more.")
            .Validate(smtp => smtp.GreylistPlantsPerRound >= 1, "Smtp:GreylistPlantsPerRound must be at least 1.")
            .PostConfigure(smtp => ReadSingleGreylistRetry(smtp, configuration.GetSection("Smtp:GreylistRetryAfter")))
            .Validate(smtp => smtp.GreylistRetryAfter.All(at => at > TimeSpan.Zero)
                              && smtp.GreylistRetryAfter.Zip(smtp.GreylistRetryAfter.Skip(1)).All(pair => pair.First < pair.Second),
                "Smtp:GreylistRetryAfter must be positive times, each later than the one before.")
            .ValidateOnStart();
        services.AddSingleton<NetworkGuard>();
        services.AddSingleton<MailDns>();
        services.AddSingleton<CallbackUrls>();
        return services;
    }

    /// <summary>Configurations written before the schedule said <c>Smtp:GreylistRetryAfter=00:05:00</c>: one step.</summary>
    private static void ReadSingleGreylistRetry(SmtpOptions smtp, IConfigurationSection section)
    {
        if (section.Value is { Length: > 0 } single && TimeSpan.TryParse(single, System.Globalization.CultureInfo.InvariantCulture, out var after))
        {
            smtp.GreylistRetryAfter = [after];
        }
    }
}
