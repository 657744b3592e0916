namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>Who is being looked for, as stored at submission (domain already normalised).</summary>
public sealed record PersonQuery(string FirstName, string LastName, string Domain, string? CompanyName, string? LinkedInUrl);

/// <summary>What a source saw of an address. Sources report observations; only <see cref="Verdict"/> decides statuses.</summary>
public enum EmailObservation
{
    /// <summary>A source lists the address (the directory, a page) but nobody has asked its mail server.</summary>
    Listed,
}

public sealed record EmailEvidence(string Address, string Source, EmailObservation Observation);

public sealed record PhoneEvidence(string E164, string Region, string Source);

/// <summary>Everything one source saw for one person.</summary>
public sealed record SourceFindings(IReadOnlyList<EmailEvidence> Emails, IReadOnlyList<PhoneEvidence> Phones)
{
    public static SourceFindings Nothing { get; } = new([], []);
}
