using System.Net.Mail;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Waterfall;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// What a provider's report is worth as evidence, whatever its protocol: only the fields that were asked,
/// only bare addresses at a host name, and only phone numbers that are valid once parsed again, in E.164
/// with their region. Its statuses are observations, which our <see cref="Verdict"/> decides on.
/// </summary>
public static class UpstreamFindings
{
    /// <summary>The evidence in a report, for the fields that were asked (and only those).</summary>
    public static SourceFindings From(UpstreamAnswer.Reported report, EnrichFields asked, string source)
    {
        var emails = asked.HasFlag(EnrichFields.Emails)
            ? report.Emails.Select(email => Evidence(email, source)).OfType<EmailEvidence>().ToList()
            : [];
        var phones = asked.HasFlag(EnrichFields.Phones)
            ? report.Phones.Select(phone => Evidence(phone, source)).OfType<PhoneEvidence>().ToList()
            : [];
        return new SourceFindings(emails, phones);
    }

    private static EmailEvidence? Evidence(ReportedEmail email, string source) =>
        Address(email.Address) is { } address ? new EmailEvidence(address, source, email.Observation) : null;

    private static PhoneEvidence? Evidence(ReportedPhone phone, string source) =>
        phone.Number is { Length: > 0 } number
        && PhoneNumberParser.TryParse(number, PhoneNumberParser.IsRegion(phone.Region) ? phone.Region : null, out var parsed, out _)
            ? new PhoneEvidence(parsed!.E164, parsed.Region, source)
            : null;

    /// <summary>The address in lower case when it is a bare address at a real host name; null for anything else.</summary>
    private static string? Address(string? value)
    {
        var address = value?.Trim().ToLowerInvariant();
        return address is { Length: > 0 }
            && MailAddress.TryCreate(address, out var parsed)
            && parsed.Address == address && parsed.DisplayName.Length == 0 && !address.Contains('"')
            && DomainName.NormaliseOrNull(parsed.Host) == parsed.Host
                ? address
                : null;
    }
}
