using System.Net;
using System.Text.RegularExpressions;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>What the address check learnt: its row, and the address the mail server sees us at, when it said.</summary>
public sealed record AddressFinding(CheckResult Result, IPAddress? Address);

/// <summary>
/// The address mail servers see this machine at (behind NAT or a proxy it is not any address of this machine): many
/// servers echo it in the first line of their EHLO reply, and it is that address whose reverse name and block-list
/// listings decide how servers treat us.
/// </summary>
public static partial class ClientAddressCheck
{
    public const string Name = "address seen";

    /// <summary>Why the checks of that address were not made.</summary>
    public const string Unknown = "the address the mail servers see is not known";

    public static AddressFinding Run(SmtpFinding smtp)
    {
        if (smtp.Ehlo is not { } ehlo)
        {
            return new AddressFinding(CheckResult.NotChecked(Name, "no mail server answered our EHLO"), null);
        }

        return EchoedAddress(ehlo) is { } address
            ? new AddressFinding(CheckResult.Ok(Name, $"{smtp.Host} sees us at {address}"), address)
            : new AddressFinding(CheckResult.Warn(Name, $"{smtp.Host} echoes no address in its EHLO reply ({ehlo.FirstLine})",
                "Try a --domain whose servers echo it (gmail.com's do), or check this machine's public address's reverse DNS and block lists by hand."), null);
    }

    /// <summary>
    /// The first address literal of the EHLO reply's first line: "mx.example Hello name [192.0.2.1]" (Exim, Sendmail),
    /// "mx.google.com at your service, [192.0.2.1]" (Gmail), "… Hello [IPv6:2001:db8::1]" (an RFC 5321 literal).
    /// Null when the server echoes none (Postfix does not).
    /// </summary>
    public static IPAddress? EchoedAddress(SmtpReply ehlo) =>
        AddressLiteral().Matches(ehlo.FirstLine)
            .Select(match => IPAddress.TryParse(match.Groups["address"].Value, out var address) ? Plain(address) : null)
            .FirstOrDefault(address => address is not null);

    /// <summary>::ffff:192.0.2.1 is 192.0.2.1: its reverse name and listings are the IPv4 address's.</summary>
    public static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [GeneratedRegex(@"\[(?:IPv6:)?(?<address>[0-9A-Fa-f:.]{2,45})\]", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex AddressLiteral();
}
