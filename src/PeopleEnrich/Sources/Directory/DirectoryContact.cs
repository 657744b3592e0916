namespace PeopleEnrich.Sources.Directory;

/// <summary>One known contact: a person (by LinkedIn URL and/or name at a domain) with an address or a number.</summary>
public sealed class DirectoryContact
{
    public string ContactKey { get; init; } = "";
    public string? LinkedinKey { get; init; }
    public string? FirstKey { get; init; }
    public string? LastKey { get; init; }
    public string? Domain { get; init; }
    public string? Firstname { get; init; }
    public string? Lastname { get; init; }
    public string? CompanyName { get; init; }
    public string? LinkedinUrl { get; init; }
    public string? Email { get; init; }
    public string? PhoneE164 { get; init; }
    public string? PhoneRegion { get; init; }

    /// <summary>The file (its name only) and line it was imported from: the evidence behind what it gives.</summary>
    public string? SourceFile { get; init; }

    public long? SourceLine { get; init; }

    /// <summary>When it was last imported or changed (Unix milliseconds).</summary>
    public long UpdatedAt { get; init; }

    /// <summary>Same data, whatever the key or the file it came from: an import that finds this changes nothing.</summary>
    public bool SameAs(DirectoryContact other) =>
        (LinkedinKey, FirstKey, LastKey, Domain, Firstname, Lastname, CompanyName, LinkedinUrl, Email, PhoneE164, PhoneRegion)
        == (other.LinkedinKey, other.FirstKey, other.LastKey, other.Domain, other.Firstname, other.Lastname, other.CompanyName, other.LinkedinUrl, other.Email, other.PhoneE164, other.PhoneRegion);
}
