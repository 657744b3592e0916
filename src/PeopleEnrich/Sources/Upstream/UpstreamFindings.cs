using System.Net.Mail;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Between our people and the contract's items: what an upstream is asked, and what its answer is
/// worth as evidence. Its statuses become observations (our <see cref="Verdict"/> decides); its phone
/// numbers are parsed again, and only valid ones with their region are kept.
/// </summary>
public static class UpstreamFindings
{
    public static UpstreamPerson Request(Person person, EnrichFields asked) => new(
        person.FirstName, person.LastName, person.Domain, person.CompanyName, person.LinkedInUrl,
        EnrichFieldNames.Canonical(asked).Split(','));

    /// <summary>The evidence in a COMPLETED item, for the fields that were asked (and only those).</summary>
    public static SourceFindings From(UpstreamItemResult result, EnrichFields asked, string source)
    {
        var emails = asked.HasFlag(EnrichFields.Emails)
            ? (result.Emails ?? []).OfType<UpstreamEmail>().Select(email => Evidence(email, source)).OfType<EmailEvidence>().ToList()
            : [];
        var phones = asked.HasFlag(EnrichFields.Phones)
            ? (result.Phones ?? []).OfType<UpstreamPhone>().Select(phone => Evidence(phone, source)).OfType<PhoneEvidence>().ToList()
            : [];
        return new SourceFindings(emails, phones);
    }

    private static EmailEvidence? Evidence(UpstreamEmail email, string source)
    {
        if (Address(email.Email) is not { } address)
        {
            return null;
        }

        var observation = email.Status switch
        {
            EmailStatus.Deliverable => EmailObservation.UpstreamDeliverable,
            EmailStatus.HighProbability => EmailObservation.UpstreamHighProbability,
            EmailStatus.CatchAll => EmailObservation.UpstreamCatchAll,
            EmailStatus.Invalid => EmailObservation.UpstreamInvalid,
            // UNKNOWN, or a status the contract does not know: the upstream names the address, with no verdict.
            _ => EmailObservation.Listed,
        };
        return new EmailEvidence(address, source, observation);
    }

    private static PhoneEvidence? Evidence(UpstreamPhone phone, string source) =>
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
