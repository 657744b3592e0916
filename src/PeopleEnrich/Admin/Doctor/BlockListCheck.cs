using System.Net;
using System.Net.Sockets;
using DnsClient;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>
/// Whether the address the mail servers see is on a DNS block list (Doctor:BlockLists): the A record of the
/// address's reversed octets (or nibbles) under the zone is 127.0.0.x when it is listed, and NXDOMAIN when not.
/// A listed address is refused at connect or at RCPT by the servers that use the list, and no verdict comes from them.
/// </summary>
public sealed class BlockListCheck(MailDns dns, IOptions<DoctorOptions> options)
{
    // Where to ask for delisting; other zones get the generic advice.
    private static readonly Dictionary<string, string> LookupPages = new(StringComparer.OrdinalIgnoreCase)
    {
        ["zen.spamhaus.org"] = "https://check.spamhaus.org/",
        ["b.barracudacentral.org"] = "https://www.barracudacentral.org/lookups",
        ["bl.spamcop.net"] = "https://www.spamcop.net/bl.shtml",
    };

    public static string NameOf(string zone) => $"block list {zone}";

    public async Task<IReadOnlyList<CheckResult>> RunAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        var results = new List<CheckResult>();
        foreach (var zone in options.Value.EffectiveBlockLists)
        {
            results.Add(address is null
                ? CheckResult.NotChecked(NameOf(zone), ClientAddressCheck.Unknown)
                : await CheckAsync(address, zone, cancellationToken));
        }

        return results;
    }

    private async Task<CheckResult> CheckAsync(IPAddress address, string zone, CancellationToken cancellationToken)
    {
        var name = NameOf(zone);
        IReadOnlyList<IPAddress> answers;
        try
        {
            answers = await dns.ResolveHostAsync($"{ReversedLabels(address)}.{zone}", cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            return CheckResult.Warn(name, $"could not check {address}: {exception.Message}", "Check the DNS row, then run the doctor again.");
        }

        var codes = answers.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.GetAddressBytes()).ToList();
        var said = string.Join(", ", answers);
        if (codes.Count == 0)
        {
            return CheckResult.Ok(name, $"{address} is not listed");
        }

        // Spamhaus answers 127.255.255.x for a query it will not answer (254: through a public resolver; 255: too many
        // queries; 252: a mistyped zone): no verdict either way.
        if (codes.Any(b => b is [127, 255, 255, _]))
        {
            return CheckResult.Warn(name, $"the list would not answer for {address} ({said}): not known whether it is listed",
                "Query through a resolver of your own (Dns:Servers), not a public one: the list refuses public resolvers.");
        }

        if (codes.Any(b => b is [127, 0, 0, _]))
        {
            var page = LookupPages.TryGetValue(zone, out var url) ? $" ({url})" : "";
            return CheckResult.Fail(name, $"{address} is listed ({said})",
                $"Ask {zone} to delist {address}{page}, or verify through another address (Smtp:Socks5Proxy).");
        }

        return CheckResult.Warn(name, $"unexpected answer for {address}: {said}",
            "The resolver may rewrite missing names to its own page: use one that does not (Dns:Servers).");
    }

    /// <summary>"1.0.0.127" for 127.0.0.1 and 32 nibbles for an IPv6 address, last first: the reverse name without its arpa zone.</summary>
    private static string ReversedLabels(IPAddress address)
    {
        var reverse = address.GetArpaName();
        return reverse[..reverse.IndexOf(address.AddressFamily == AddressFamily.InterNetwork ? ".in-addr.arpa" : ".ip6.arpa", StringComparison.Ordinal)];
    }
}
