namespace PeopleEnrich.Api.Auth;

public static class AuthenticationSetup
{
    public static IServiceCollection AddCallerAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<JwtOptions>(configuration.GetSection("Auth:Jwt"));
        services.AddHttpClient(nameof(SigningKeys));
        services.AddSingleton<SigningKeys>();
        services.AddAuthentication(CallerAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, CallerAuthenticationHandler>(CallerAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        return services;
    }
}
