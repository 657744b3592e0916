namespace PeopleEnrich.Storage;

public static class StorageSetup
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => Database.FromConfiguration(configuration));
        services.AddSingleton<Migrator>();
        return services;
    }
}
