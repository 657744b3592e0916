namespace PeopleEnrich.Answers;

/// <summary>
/// Where a returned address or number was seen, and what identifies that sighting, so that every answer
/// can be explained ("why this address?"). Never anything secret: no keys, no credentials of ours.
/// </summary>
public abstract record Provenance(DateTimeOffset ObservedAt)
{
    /// <summary>The kind, as the evidence endpoint names it: directory, website, smtp, pattern, upstream or bounce.</summary>
    public abstract string Source { get; }
}

/// <summary>A mail server's reply to RCPT TO, and whether its domain accepted a made-up recipient (catch-all).</summary>
public sealed record SmtpProvenance(DateTimeOffset ObservedAt, string MxHost, string Reply, bool CatchAll) : Provenance(ObservedAt)
{
    public override string Source => "smtp";
}

/// <summary>A page of the company's website that gives the address or number beside the person's name.</summary>
public sealed record WebsiteProvenance(DateTimeOffset ObservedAt, string Url) : Provenance(ObservedAt)
{
    public override string Source => "website";
}

/// <summary>A line of a file the operator imported into the directory.</summary>
public sealed record DirectoryProvenance(DateTimeOffset ObservedAt, string File, int Line) : Provenance(ObservedAt)
{
    public override string Source => "directory";
}

/// <summary>An upstream provider's report: its name and the status it gave (none for a number).</summary>
public sealed record UpstreamProvenance(DateTimeOffset ObservedAt, string Provider, string? Status) : Provenance(ObservedAt)
{
    public override string Source => "upstream";
}

/// <summary>
/// The support of a guessed address on a catch-all domain: the pattern it follows and the addresses
/// seen at the domain in that pattern (none when only the pattern's commonness supports it).
/// </summary>
public sealed record PatternProvenance(DateTimeOffset ObservedAt, string Pattern, IReadOnlyList<string> Supporting) : Provenance(ObservedAt)
{
    public override string Source => "pattern";

    public bool Equals(PatternProvenance? other) =>
        other is not null && ObservedAt == other.ObservedAt && Pattern == other.Pattern && Supporting.SequenceEqual(other.Supporting);

    public override int GetHashCode() => HashCode.Combine(ObservedAt, Pattern, Supporting.Count);
}

/// <summary>A caller reported that mail to the address bounced, and when; the reply's codes ("550 5.1.1") when given, never its text.</summary>
public sealed record BounceProvenance(DateTimeOffset ObservedAt, string? Reply) : Provenance(ObservedAt)
{
    public override string Source => "bounce";
}
