namespace PeopleEnrich.Admin.Doctor;

/// <summary>
/// The checks, in the order each needs the last: DNS gives the mail hosts, the SMTP check their EHLO reply, which gives
/// the address they see us at, whose reverse name and block-list listings are checked; the sender's domain and whether
/// the service has paused probing stand alone.
/// </summary>
public sealed class Doctor(
    DnsCheck dns, SmtpReachCheck smtp, ReverseDnsCheck reverseDns, HeloNameCheck heloName, MailFromCheck mailFrom, BlockListCheck blockLists, ProbingCheck probing)
{
    public async Task<IReadOnlyList<CheckResult>> ExamineAsync(string domain, CancellationToken cancellationToken)
    {
        var routing = await dns.RunAsync(domain, cancellationToken);
        var reach = await smtp.RunAsync(domain, routing.Routing, cancellationToken);
        var seen = ClientAddressCheck.Run(reach);
        var reverse = await reverseDns.RunAsync(seen.Address, cancellationToken);
        return
        [
            routing.Result,
            reach.Result,
            seen.Result,
            reverse.Result,
            heloName.Run(seen.Address, reverse),
            await mailFrom.RunAsync(cancellationToken),
            .. await blockLists.RunAsync(seen.Address, cancellationToken),
            await probing.RunAsync(cancellationToken),
        ];
    }
}
