using Microsoft.Extensions.Options;
using PeopleEnrich.Credits;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Storage.Retention;

namespace PeopleEnrich.Bounces;

public static class BouncesSetup
{
    /// <summary>Bounce feedback: the refunds (Bounces:RefundWindow), and the reported bounces every waterfall and cache lookup heeds.</summary>
    public static IServiceCollection AddBounces(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddBounceRefunds(configuration);
        services.AddSingleton<BouncedAddresses>();
        services.AddSingleton<IKnownBounces>(provider => provider.GetRequiredService<BouncedAddresses>());
        services.AddSingleton<BounceFeedback>();
        services.AddExpiringRows("reported bounces", "bounced_addresses", "reported_at < @cutoff",
            provider => provider.GetRequiredService<IOptions<BounceOptions>>().Value.Remember);
        return services;
    }
}
