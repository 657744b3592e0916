using DnsClient;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>What the DNS check learnt: its row, and where the domain's mail goes (what the SMTP check connects to).</summary>
public sealed record DnsFinding(CheckResult Result, MailRouting Routing);

/// <summary>
/// Whether the resolvers of Dns:Servers answer, asked what the finder asks first: the MX of the domain. Any answer,
/// even "this domain takes no mail", shows that DNS works; only silence or an error is a failure.
/// </summary>
public sealed class DnsCheck(MailDns dns, IOptions<DnsOptions> options)
{
    public const string Name = "DNS";

    public async Task<DnsFinding> RunAsync(string domain, CancellationToken cancellationToken)
    {
        var resolvers = options.Value.Servers is { Count: > 0 } servers ? string.Join(", ", servers) : "the system's resolvers";
        MailRouting routing;
        try
        {
            routing = await dns.ResolveAsync(domain, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            // An MX answered but its host's address did not: DNS is not answering either.
            routing = new MailRouting.Unresolved(exception.Message);
        }

        var result = routing switch
        {
            MailRouting.Hosts { Implicit: true } => CheckResult.Ok(Name, $"{resolvers} answered: {domain} has no MX; its own address takes its mail"),
            MailRouting.Hosts hosts => CheckResult.Ok(Name, $"{resolvers} answered: {domain} MX {Describe(hosts)}"),
            MailRouting.NoMail noMail => CheckResult.Ok(Name, $"{resolvers} answered: {domain}: {noMail.Why}"),
            MailRouting.Unresolved unresolved => CheckResult.Fail(Name, $"{resolvers} did not answer for {domain} MX: {unresolved.Why}",
                "Set Dns:Servers to resolvers that answer this machine (a local unbound, or your provider's), or unset it to use the system's."),
            _ => throw new InvalidOperationException($"Unknown routing {routing}"),
        };
        return new DnsFinding(result, routing);
    }

    private static string Describe(MailRouting.Hosts hosts) =>
        hosts.Exchangers.Count == 1 ? hosts.Exchangers[0].Name : $"{hosts.Exchangers[0].Name} and {hosts.Exchangers.Count - 1} more";
}
