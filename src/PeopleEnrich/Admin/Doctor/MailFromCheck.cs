using DnsClient;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>
/// Whether the domain of our envelope sender (Smtp:MailFrom) could take a bounce: an MX, or an address as its implicit
/// MX. Receivers check it at MAIL FROM and refuse a sender whose domain takes no mail (RFC 7505 §4.2 for a null MX).
/// </summary>
public sealed class MailFromCheck(MailDns dns, IOptions<SmtpOptions> options)
{
    public const string Name = "MAIL FROM domain";

    private const string UseYourOwn = "Set Smtp:MailFrom to an address at a domain you control that has an MX.";

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var sender = options.Value.EffectiveMailFrom;
        var at = sender.LastIndexOf('@');
        var domain = at > 0 ? sender[(at + 1)..].TrimEnd('.') : "";
        if (domain.Length == 0)
        {
            return CheckResult.Fail(Name, $"Smtp:MailFrom '{sender}' is not an address", UseYourOwn);
        }

        MailRouting routing;
        try
        {
            routing = await dns.ResolveAsync(domain, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            routing = new MailRouting.Unresolved(exception.Message);
        }

        return routing switch
        {
            MailRouting.Hosts { Implicit: true } => CheckResult.Ok(Name, $"{sender}: {domain} has no MX, but an address (its implicit MX)"),
            MailRouting.Hosts hosts => CheckResult.Ok(Name, $"{sender}: {domain} MX {string.Join(", ", hosts.Exchangers.Select(h => h.Name))}"),
            MailRouting.NoMail noMail => CheckResult.Fail(Name, $"{sender}: {domain}: {noMail.Why}", UseYourOwn),
            MailRouting.Unresolved unresolved => CheckResult.Warn(Name, $"{sender}: could not look up {domain}: {unresolved.Why}", "Check the DNS row, then run the doctor again."),
            _ => throw new InvalidOperationException($"Unknown routing {routing}"),
        };
    }
}
