using PeopleEnrich.Knowledge;
using PeopleEnrich.Verification;

namespace PeopleEnrich.Admin.Doctor;

public static class DoctorSetup
{
    /// <summary>The checks, on the finder's own DNS, guard and settings, so that the doctor sees what the finder would.</summary>
    public static IServiceCollection AddDoctor(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddVerification(configuration);
        services.Configure<DoctorOptions>(configuration.GetSection("Doctor"));
        services.AddSingleton<DnsCheck>();
        services.AddSingleton<SmtpReachCheck>();
        services.AddSingleton<ReverseDnsCheck>();
        services.AddSingleton<HeloNameCheck>();
        services.AddSingleton<MailFromCheck>();
        services.AddSingleton<BlockListCheck>();
        services.AddSingleton<MailHostMemory>();
        services.AddSingleton<ProbingCheck>();
        services.AddSingleton<Doctor>();
        return services;
    }
}
