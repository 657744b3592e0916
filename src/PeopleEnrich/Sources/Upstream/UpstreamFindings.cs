using System.Net.Mail;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Waterfall;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// What a provider's report is worth as evidence, whatever its protocol: only the fields that were asked,
/// only bare addresses at a host name, and only phone numbers that are valid once parsed again, in E.164
/// with their region. Its statuses are observations, which our <see cref="Verdict"/> decides on. Each item
/// carries its <see cref="UpstreamProvenance"/>: when the answer came, from which provider, and what it said.
/// </summary>
public static class UpstreamFindings
{
    /// <summary>The evidence in a report received at <paramref name="receivedAt"/>, for the fields that were asked (and only those).</summary>
    public static SourceFindings From(UpstreamAnswer.Reported report, EnrichFields asked, UpstreamOptions upstream, DateTimeOffset receivedAt)
    {
        var emails = asked.HasFlag(EnrichFields.Emails)
            ? report.Emails.Select(email => Evidence(email, upstream, receivedAt)).OfType<EmailEvidence>().ToList()
            : [];
        var phones = asked.HasFlag(EnrichFields.Phones)
            ? report.Phones.Select(phone => Evidence(phone, upstream, receivedAt)).OfType<PhoneEvidence>().ToList()
            : [];
        return new SourceFindings(emails, phones);
    }

    private static EmailEvidence? Evidence(ReportedEmail email, UpstreamOptions upstream, DateTimeOffset receivedAt) =>
        Address(email.Address) is { } address
            ? new EmailEvidence(address, upstream.Name, email.Observation) { Provenance = Provenance(upstream, receivedAt, email.Status) }
            : null;

    private static PhoneEvidence? Evidence(ReportedPhone phone, UpstreamOptions upstream, DateTimeOffset receivedAt) =>
        phone.Number is { Length: > 0 } number
        && PhoneNumberParser.TryParse(number, PhoneNumberParser.IsRegion(phone.Region) ? phone.Region : null, out var parsed, out _)
            ? new PhoneEvidence(parsed!.E164, parsed.Region, upstream.Name) { Provenance = Provenance(upstream, receivedAt, status: null) }
            : null;

    /// <summary>
    /// The provider's own word is kept as it said it, but as text another server wrote: one short line, and
    /// never our key to it (provenance is shown to our clients). Its name is the operator's; nothing else of the settings goes in.
    /// </summary>
    private static UpstreamProvenance Provenance(UpstreamOptions upstream, DateTimeOffset receivedAt, string? status) =>
        new(receivedAt, upstream.Name, status is null ? null : ForeignText.Loggable(status, upstream.ApiKey));

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
