namespace PeopleEnrich.Vocabulary;

/// <summary>How a company builds its people's local parts. Examples are for Jane Q. Doe.</summary>
public enum AddressPattern
{
    /// <summary>jane.doe</summary>
    FirstDotLast,

    /// <summary>jdoe</summary>
    FLast,

    /// <summary>jane</summary>
    First,

    /// <summary>janedoe</summary>
    FirstLast,

    /// <summary>j.doe</summary>
    FDotLast,

    /// <summary>janed</summary>
    FirstL,

    /// <summary>jane_doe</summary>
    FirstUnderscoreLast,

    /// <summary>doe.jane</summary>
    LastDotFirst,

    /// <summary>jane.d</summary>
    FirstDotL,

    /// <summary>doej</summary>
    LastF,

    /// <summary>jane.q.doe (needs a middle initial)</summary>
    FirstDotMDotLast,

    /// <summary>doejane</summary>
    LastFirst,

    /// <summary>jane-doe</summary>
    FirstHyphenLast,

    /// <summary>doe</summary>
    Last,

    /// <summary>jd</summary>
    FL,
}

/// <summary>A pattern a domain is known to use, learned from an address of it we already know.</summary>
public sealed record KnownPattern(AddressPattern Pattern, int Observations = 1);

/// <summary>
/// One pattern: how to build it and its prior, the share of companies using it. The priors are our
/// own estimate; PATTERNS.md gives the published figures they were weighed against.
/// </summary>
public sealed record PatternDefinition(AddressPattern Pattern, string Template, double Prior)
{
    private string Shape => Template.Replace("{first}", "F").Replace("{last}", "L")
        .Replace("{f}", "f").Replace("{l}", "l").Replace("{m}", "m");

    internal bool UsesWholeFirst => Shape.Contains('F');

    internal bool UsesWholeLast => Shape.Contains('L');

    internal bool UsesFirst => UsesWholeFirst || Shape.Contains('f');

    internal bool UsesLast => UsesWholeLast || Shape.Contains('l');

    internal bool UsesMiddle => Shape.Contains('m');

    /// <summary>
    /// The local part for one spelling of each name, or null when the pattern does not fit the name:
    /// a missing name or middle initial, or a one-letter name where the pattern wants the whole name
    /// (for "J Doe", first.last would be f.last again, and "first" alone a one-letter mailbox).
    /// </summary>
    public string? Build(string? first, string? last, string? middleInitial)
    {
        if ((UsesFirst && string.IsNullOrEmpty(first)) || (UsesLast && string.IsNullOrEmpty(last))
            || (UsesMiddle && string.IsNullOrEmpty(middleInitial))
            || (UsesWholeFirst && first!.Length == 1) || (UsesWholeLast && last!.Length == 1))
        {
            return null;
        }

        return Template
            .Replace("{first}", first).Replace("{last}", last)
            .Replace("{f}", first?[..1]).Replace("{l}", last?[..1]).Replace("{m}", middleInitial);
    }
}

/// <summary>The well-known corporate address patterns, most common first, and which of them an address follows.</summary>
public static class AddressPatterns
{
    // Priors: our estimate of the share of companies using each pattern, weighed from the sources in
    // PATTERNS.md (none of them a rigorous study): a vendor's claim that ~60% of B2B companies use
    // first.last and ~25% first@, flast@ or first.l@; an unattributed per-company-size table in public
    // code (flast ~34%, first ~18% on average, first 42% among companies under 50 people); and a small
    // published survey of 59 business contacts (flast 27, first.last 16, first 6, first.m.last 4).
    // They sum to 0.995; the rest is custom formats that no pattern here predicts.
    public static IReadOnlyList<PatternDefinition> All { get; } =
    [
        new(AddressPattern.FirstDotLast, "{first}.{last}", 0.38),
        new(AddressPattern.FLast, "{f}{last}", 0.22),
        new(AddressPattern.First, "{first}", 0.14),
        new(AddressPattern.FirstLast, "{first}{last}", 0.07),
        new(AddressPattern.FDotLast, "{f}.{last}", 0.04),
        new(AddressPattern.FirstL, "{first}{l}", 0.03),
        new(AddressPattern.FirstUnderscoreLast, "{first}_{last}", 0.025),
        new(AddressPattern.LastDotFirst, "{last}.{first}", 0.02),
        new(AddressPattern.FirstDotL, "{first}.{l}", 0.015),
        new(AddressPattern.LastF, "{last}{f}", 0.015),
        new(AddressPattern.FirstDotMDotLast, "{first}.{m}.{last}", 0.01),
        new(AddressPattern.LastFirst, "{last}{first}", 0.01),
        new(AddressPattern.FirstHyphenLast, "{first}-{last}", 0.01),
        new(AddressPattern.Last, "{last}", 0.005),
        new(AddressPattern.FL, "{f}{l}", 0.005),
    ];

    public static PatternDefinition Of(AddressPattern pattern) => All.First(p => p.Pattern == pattern);

    /// <summary>
    /// The patterns <paramref name="localPart"/> follows for this person, most common first; empty when
    /// it follows none. Several when the name makes them coincide (for "J Doe" or a one-word name).
    /// Used to learn a domain's pattern from an address of it we already know.
    /// </summary>
    public static IReadOnlyList<AddressPattern> Detect(string localPart, NameParts name)
    {
        var observed = localPart.Trim().ToLowerInvariant();
        if (observed.Length == 0)
        {
            return [];
        }

        return All
            .Where(definition => Spellings(name.Firsts).Any(first => Spellings(name.Lasts).Any(last =>
                definition.Build(first, last, name.MiddleInitial) == observed)))
            .Select(definition => definition.Pattern)
            .ToList();
    }

    // A pattern that uses only one of the names is still tried when the other is missing.
    internal static IReadOnlyList<string?> Spellings(IReadOnlyList<string> variants) => variants.Count == 0 ? [null] : [.. variants];
}
