using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Credits;

public static class CreditsSetup
{
    public static IServiceCollection AddCredits(this IServiceCollection services)
    {
        services.TryAddSingleton<CreditLedger>();
        return services;
    }

    /// <summary>Refunds of reported bounces (Bounces:RefundWindow), and the forgetting of charges older than the window.</summary>
    public static IServiceCollection AddBounceRefunds(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BounceOptions>().Bind(configuration.GetSection("Bounces"))
            .Validate(BounceOptions.IsValid, "Bounces: RefundWindow and Remember must be positive.")
            .ValidateOnStart();
        services.AddCredits();
        services.TryAddSingleton<BounceRefunds>();
        services.AddExpiringRows("charged addresses (hashed)", "charged_addresses", "charged_at < @cutoff",
            provider => provider.GetRequiredService<IOptions<BounceOptions>>().Value.RefundWindow);
        return services;
    }
}
