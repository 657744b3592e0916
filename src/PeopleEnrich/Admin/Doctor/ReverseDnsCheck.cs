using System.Net;
using DnsClient;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>What the reverse DNS check learnt: its row, and the address's reverse name when it resolves back to the address.</summary>
public sealed record ReverseDnsFinding(CheckResult Result, string? ConfirmedName);

/// <summary>
/// Forward-confirmed reverse DNS of the address the mail servers see: a PTR name that resolves back to the address.
/// Gmail's sender guidelines require it and many servers refuse or distrust a client without it, so its absence is a failure.
/// </summary>
public sealed class ReverseDnsCheck(MailDns dns)
{
    public const string Name = "reverse DNS";

    public async Task<ReverseDnsFinding> RunAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return new ReverseDnsFinding(CheckResult.NotChecked(Name, ClientAddressCheck.Unknown), null);
        }

        IReadOnlyList<string> names;
        try
        {
            names = await dns.ReverseNamesAsync(address, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            return new ReverseDnsFinding(CheckResult.Warn(Name, $"could not look up the PTR of {address}: {exception.Message}", "Check the DNS row: the resolvers must answer reverse lookups too."), null);
        }

        if (names.Count == 0)
        {
            return new ReverseDnsFinding(CheckResult.Fail(Name, $"{address} has no PTR record",
                "Ask whoever owns the address (your provider, the proxy's) for a PTR naming this machine, and set Smtp:HeloName to that name."), null);
        }

        var resolved = new List<string>();
        foreach (var name in names)
        {
            var addresses = await ForwardAsync(name, cancellationToken);
            if (addresses.Any(a => ClientAddressCheck.Plain(a).Equals(address)))
            {
                return new ReverseDnsFinding(CheckResult.Ok(Name, $"{address} is {name}, which resolves back to it"), name);
            }

            resolved.Add($"{name} resolves to {(addresses.Count == 0 ? "nothing" : string.Join(", ", addresses))}");
        }

        return new ReverseDnsFinding(CheckResult.Fail(Name, $"{address}'s PTR is not forward-confirmed: {string.Join("; ", resolved)}",
            $"Give {names[0]} an address record of {address} (or change the PTR to a name that has one)."), null);
    }

    /// <summary>A name's addresses; none when DNS does not answer (the row then says it resolves to nothing, which is what a receiver sees too).</summary>
    private async Task<IReadOnlyList<IPAddress>> ForwardAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await dns.ResolveHostAsync(name, cancellationToken);
        }
        catch (DnsResponseException)
        {
            return [];
        }
    }
}
