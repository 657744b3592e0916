using Microsoft.Extensions.Options;
using PeopleEnrich.Accounts;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Hosting;

public static class DatabaseStartup
{
    /// <summary>Creates or migrates the schema, then makes sure there is an account to call the API with.</summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, bool bootstrap, CancellationToken cancellationToken = default)
    {
        var database = services.GetRequiredService<Database>();
        services.GetRequiredService<ILoggerFactory>().CreateLogger("PeopleEnrich").LogInformation("Storing in {Database}", database.Description);
        await services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        if (bootstrap)
        {
            await services.GetRequiredService<AccountStore>().BootstrapAsync(
                services.GetRequiredService<IOptions<BootstrapOptions>>().Value, Console.Out, cancellationToken);
        }
    }
}
