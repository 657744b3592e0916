namespace PeopleEnrich.Pipeline.Waterfall;

public static class EmailStatus
{
    public const string Deliverable = "DELIVERABLE";
    public const string HighProbability = "HIGH_PROBABILITY";
    public const string CatchAll = "CATCH_ALL";
    public const string Invalid = "INVALID";
    public const string Unknown = "UNKNOWN";

    /// <summary>Lower is a lower expected bounce rate; INVALID is never a most probable email.</summary>
    public static int Rank(string status) => status switch
    {
        Deliverable => 0,
        HighProbability => 1,
        CatchAll => 2,
        Unknown => 3,
        _ => 4,
    };

    /// <summary>The contract's "found": an address we stand behind, and so charge for.</summary>
    public static bool CountsAsFound(string status) => status is Deliverable or HighProbability;
}

public sealed record FoundEmail(string Email, string Status);

public sealed record FoundPhone(string Number, string Region);

public sealed record EnrichmentOutcome(IReadOnlyList<FoundEmail> Emails, string? MostProbableEmail, IReadOnlyList<FoundPhone> Phones)
{
    public EnrichFields Found =>
        (MostProbableEmail is not null && Emails.Any(e => e.Email == MostProbableEmail && EmailStatus.CountsAsFound(e.Status)) ? EnrichFields.Emails : EnrichFields.None)
        | (Phones.Count > 0 ? EnrichFields.Phones : EnrichFields.None);

    public long ChargeFor(EnrichFields asked) => CreditCost.For(asked & Found);
}

/// <summary>The one function that turns evidence into the contract's statuses.</summary>
public static class Verdict
{
    public static EnrichmentOutcome Decide(IEnumerable<EmailEvidence> emails, IEnumerable<PhoneEvidence> phones)
    {
        var decided = emails
            .GroupBy(e => e.Address.ToLowerInvariant())
            .Select(group => new FoundEmail(group.Key, StatusOf(group)))
            .OrderBy(e => EmailStatus.Rank(e.Status))
            .ToList();
        var mostProbable = decided.FirstOrDefault(e => e.Status != EmailStatus.Invalid)?.Email;
        var numbers = phones
            .DistinctBy(p => p.E164)
            .Select(p => new FoundPhone(p.E164, p.Region))
            .ToList();
        return new EnrichmentOutcome(decided, mostProbable, numbers);
    }

    // A listing is the only observation sources make so far, and a listing alone says nothing of
    // deliverability: until a mail server has been asked (the email finder), there is no verdict.
    private static string StatusOf(IEnumerable<EmailEvidence> evidence) =>
        evidence.All(e => e.Observation == EmailObservation.Listed) ? EmailStatus.Unknown
            : throw new InvalidOperationException("An observation without a verdict rule.");
}
