using PeopleEnrich.Vocabulary;
using PhoneNumbers;

namespace PeopleEnrich.Answers;

/// <summary>The one function that turns evidence into the contract's statuses.</summary>
public static class Verdict
{
    public static EnrichmentOutcome Decide(IEnumerable<EmailEvidence> emails, IEnumerable<PhoneEvidence> phones)
    {
        var evidence = emails.ToList();
        // A domain we saw accept a made-up recipient cannot have a verified DELIVERABLE, whoever reports one.
        var catchAllDomains = evidence.Where(e => e.Observation == EmailObservation.AcceptedByCatchAll).Select(e => DomainOf(e.Address)).ToHashSet();
        var decided = evidence
            .GroupBy(e => e.Address.ToLowerInvariant())
            .Where(group => !RoleAddresses.IsRole(group.Key.Split('@')[0])) // info@ is nobody's address
            .Select(group => (Email: new FoundEmail(group.Key, StatusOf(group, catchAllDomains.Contains(DomainOf(group.Key)))) { Evidence = Sightings(group.Select(e => e.Provenance)) },
                Claimed: group.Any(e => IsClaim(e.Observation))))
            // A rejected guess is no news; a rejected address that a source claimed tells the user it now bounces.
            .Where(e => e.Email.Status != EmailStatus.Invalid || e.Claimed)
            .Select(e => e.Email)
            .OrderBy(e => EmailStatus.Rank(e.Status))
            .ToList();
        var mostProbable = decided.FirstOrDefault(e => e.Status != EmailStatus.Invalid)?.Email;
        var numbers = phones
            .GroupBy(p => p.E164)
            .OrderBy(p => MobileFirst(p.Key)) // stable: sources' order otherwise
            .Select(p => new FoundPhone(p.Key, p.First().Region) { Evidence = Sightings(p.Select(e => e.Provenance)) })
            .ToList();
        return new EnrichmentOutcome(decided, mostProbable, numbers);
    }

    /// <summary>Every sighting behind an address or a number, once each, in the order the sources gave them.</summary>
    private static IReadOnlyList<Provenance> Sightings(IEnumerable<Provenance?> provenance) => provenance.OfType<Provenance>().Distinct().ToList();

    /// <summary>Mobile numbers reach the person, fixed lines often a desk or a switchboard: mobiles first, then numbers that may be either.</summary>
    private static int MobileFirst(string e164)
    {
        var util = PhoneNumberUtil.GetInstance();
        try
        {
            return util.GetNumberType(util.Parse(e164, null)) switch
            {
                PhoneNumberType.MOBILE => 0,
                PhoneNumberType.FIXED_LINE_OR_MOBILE => 1,
                _ => 2,
            };
        }
        catch (NumberParseException)
        {
            return 2;
        }
    }

    /// <summary>
    /// DELIVERABLE: accepted by a server that rejects made-up recipients. HIGH_PROBABILITY: a catch-all
    /// domain, and independent evidence (the learned pattern, or a source that lists it). CATCH_ALL: a
    /// catch-all domain and only a common pattern. INVALID: rejected, or reported to bounce. UNKNOWN: nothing could be asked,
    /// or the server said the mailbox is full (it exists, but mail to it would not be delivered now).
    /// An upstream's reported status counts where we have no word of our own: what our SMTP conversation
    /// saw goes first, and on a domain we saw accept anything an upstream's DELIVERABLE only backs the address.
    /// </summary>
    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..].ToLowerInvariant();

    private static string StatusOf(IEnumerable<EmailEvidence> evidence, bool domainIsCatchAll)
    {
        var seen = evidence.Select(e => e.Observation).ToHashSet();
        // A bounce is what the address did with real mail: it outweighs any server's acceptance of a RCPT (accept, then bounce).
        if (seen.Contains(EmailObservation.ReportedBounced) || seen.Contains(EmailObservation.MailboxRejected))
        {
            return EmailStatus.Invalid;
        }

        if (seen.Contains(EmailObservation.MailboxAccepted))
        {
            return EmailStatus.Deliverable;
        }

        // Our own server's word goes before an upstream's: the mailbox exists, but mail to it would bounce now.
        if (seen.Contains(EmailObservation.MailboxFull))
        {
            return EmailStatus.Unknown;
        }

        if (seen.Contains(EmailObservation.UpstreamInvalid))
        {
            return EmailStatus.Invalid;
        }

        var backed = seen.Contains(EmailObservation.FollowsLearnedPattern) || seen.Contains(EmailObservation.Listed);
        if (seen.Contains(EmailObservation.AcceptedByCatchAll))
        {
            return backed || seen.Contains(EmailObservation.UpstreamDeliverable) || seen.Contains(EmailObservation.UpstreamHighProbability)
                ? EmailStatus.HighProbability
                : EmailStatus.CatchAll;
        }

        if (seen.Contains(EmailObservation.UpstreamDeliverable))
        {
            return domainIsCatchAll ? EmailStatus.HighProbability : EmailStatus.Deliverable;
        }

        if (seen.Contains(EmailObservation.UpstreamHighProbability))
        {
            return EmailStatus.HighProbability;
        }

        if (seen.Contains(EmailObservation.UpstreamCatchAll))
        {
            return backed ? EmailStatus.HighProbability : EmailStatus.CatchAll;
        }

        return EmailStatus.Unknown;
    }

    /// <summary>
    /// A source said the address is this person's (a listing, an upstream's report), as opposed to our guess; and a reported
    /// bounce, so that the caller sees that the address they may have used bounces.
    /// </summary>
    private static bool IsClaim(EmailObservation observation) => observation is EmailObservation.Listed or EmailObservation.ReportedBounced
        or EmailObservation.UpstreamDeliverable or EmailObservation.UpstreamHighProbability
        or EmailObservation.UpstreamCatchAll or EmailObservation.UpstreamInvalid;
}
