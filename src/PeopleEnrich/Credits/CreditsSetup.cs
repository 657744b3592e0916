using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PeopleEnrich.Credits;

public static class CreditsSetup
{
    public static IServiceCollection AddCredits(this IServiceCollection services)
    {
        services.TryAddSingleton<CreditLedger>();
        return services;
    }
}
