using System.Net;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>
/// Whether our EHLO name (Smtp:HeloName) is the forward-confirmed reverse name of the address the servers see:
/// receivers compare the two, and a HELO that names another host looks like a spammer's.
/// </summary>
public sealed class HeloNameCheck(IOptions<SmtpOptions> options)
{
    public const string Name = "HELO name";

    public CheckResult Run(IPAddress? address, ReverseDnsFinding reverse)
    {
        if (address is null)
        {
            return CheckResult.NotChecked(Name, ClientAddressCheck.Unknown);
        }

        var settings = options.Value;
        var helo = settings.EffectiveHeloName.TrimEnd('.');
        var ours = string.IsNullOrWhiteSpace(settings.HeloName) ? $"{helo} (the machine's name: Smtp:HeloName is unset)" : helo;
        if (reverse.ConfirmedName is not { } reverseName)
        {
            return CheckResult.Warn(Name, $"{ours}; no forward-confirmed reverse name to compare it with",
                "Fix reverse DNS, then set Smtp:HeloName to the address's reverse name.");
        }

        return string.Equals(helo, reverseName, StringComparison.OrdinalIgnoreCase)
            ? CheckResult.Ok(Name, $"{helo}, the address's reverse name")
            : CheckResult.Warn(Name, $"{ours}, but the address's reverse name is {reverseName}", $"Set Smtp:HeloName to {reverseName}.");
    }
}
