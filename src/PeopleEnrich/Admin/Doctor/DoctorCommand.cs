using System.CommandLine;
using Microsoft.Extensions.Options;
using PeopleEnrich.Accounts;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Verification.Smtp;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>"doctor [--domain D]": the checks as a table, exit code 1 when any failed.</summary>
public static class DoctorCommand
{
    /// <summary>
    /// A large provider: its mail servers answer from anywhere that port 25 is open, and echo the address they see in
    /// their EHLO reply. Only a banner, an EHLO and a QUIT are exchanged with them.
    /// </summary>
    public const string DefaultDomain = "gmail.com";

    public static Command Create(IServiceProvider services)
    {
        var domain = new Option<string>("--domain")
        {
            Description = $"The domain whose mail servers to reach (banner, EHLO and QUIT only; default {DefaultDomain})",
            DefaultValueFactory = _ => DefaultDomain,
        };
        var doctor = new Command("doctor",
            "Checks that this machine can verify without harming itself: DNS, outbound SMTP, the address mail servers see, its reverse DNS and block listings, the sender's domain")
        {
            domain,
        };
        doctor.SetAction((result, cancellationToken) => AdminCommands.ReportingMistakesAsync(async () =>
        {
            var target = DomainToAsk(result.GetValue(domain)!);
            // A setting that cannot work is an error before anything is asked, not a row after.
            _ = services.GetRequiredService<IOptions<SmtpOptions>>().Value;
            var results = await services.GetRequiredService<Doctor>().ExamineAsync(target, cancellationToken);
            AdminCommands.WriteTable(DoctorTable.Render(results));
            Console.WriteLine(DoctorTable.Summary(results));
            return results.Any(r => r.Status == CheckStatus.Fail) ? 1 : 0;
        }));
        return doctor;
    }

    private static string DomainToAsk(string input)
    {
        if (!DomainName.TryNormalise(input, out var domain, out var problem))
        {
            throw new AdminInputException($"--domain {problem}.");
        }

        return ReservedDomains.NeverContact(domain)
            ? throw new AdminInputException($"--domain {domain} is reserved: it has no mail servers to reach.")
            : domain;
    }
}
