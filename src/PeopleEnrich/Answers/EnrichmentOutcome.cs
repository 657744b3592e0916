namespace PeopleEnrich.Answers;

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

/// <summary>An address of the answer with its status, and the evidence it was decided on.</summary>
public sealed record FoundEmail(string Email, string Status)
{
    public IReadOnlyList<Provenance> Evidence { get; init; } = [];
}

/// <summary>A number of the answer (E.164) with its region, and where it was seen.</summary>
public sealed record FoundPhone(string Number, string Region)
{
    public IReadOnlyList<Provenance> Evidence { get; init; } = [];
}

/// <summary>An item's answer: what the contract returns, as the domain knows it (the wire and the stored shapes are mapped from it).</summary>
public sealed record EnrichmentOutcome(IReadOnlyList<FoundEmail> Emails, string? MostProbableEmail, IReadOnlyList<FoundPhone> Phones)
{
    /// <summary>
    /// What could not be checked, in plain words ("Could not check: the mail servers of acme.com did not answer"); null
    /// when every source asked could look. An answer with such a gap is never "nothing found", nor cached.
    /// </summary>
    public string? Error { get; init; }

    public EnrichFields Found =>
        (MostProbableEmail is not null && Emails.Any(e => e.Email == MostProbableEmail && EmailStatus.CountsAsFound(e.Status)) ? EnrichFields.Emails : EnrichFields.None)
        | (Phones.Count > 0 ? EnrichFields.Phones : EnrichFields.None);

    /// <summary>The answer to a narrower question: a cached answer for emails and phones, asked for one of them.</summary>
    public EnrichmentOutcome Only(EnrichFields asked) => this with
    {
        Emails = asked.HasFlag(EnrichFields.Emails) ? Emails : [],
        MostProbableEmail = asked.HasFlag(EnrichFields.Emails) ? MostProbableEmail : null,
        Phones = asked.HasFlag(EnrichFields.Phones) ? Phones : [],
    };
}
