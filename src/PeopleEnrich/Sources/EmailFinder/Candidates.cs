using PeopleEnrich.Vocabulary;
namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>A local part to try, the pattern that produced it, and how likely it is before any server is asked.</summary>
public sealed record Candidate(string LocalPart, AddressPattern Pattern, double Prior);

/// <summary>The local parts worth asking a mail server about for one person, best first.</summary>
public static class Candidates
{
    /// <summary>Each RCPT TO costs a server's patience; a dozen covers the common patterns for the main spellings.</summary>
    public const int DefaultMaxCount = 12;

    // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
    private const int MaxLocalPartLength = 64;

    // Each step down a name's spelling list halves the candidate's prior: "mueller" is a real
    // possibility for Müller, but less likely than "muller" with the same pattern.
    private const double SpellingDecay = 0.5;

    /// <summary>
    /// Candidates ranked by prior (pattern prior × spelling weights), deduplicated by local part (the
    /// likeliest reading of a local part is kept). A domain's learned pattern goes first whatever its
    /// prior, since an address of that domain already showed it. Role addresses (a person called
    /// "Sales") are left out: their mailbox accepting says nothing about the person.
    /// </summary>
    public static IReadOnlyList<Candidate> For(NameParts name, KnownPattern? learned = null, int maxCount = DefaultMaxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        var generated = new List<(Candidate Candidate, int Order)>();
        foreach (var definition in AddressPatterns.All)
        {
            var firsts = AddressPatterns.Spellings(name.Firsts);
            var lasts = AddressPatterns.Spellings(name.Lasts);
            for (var f = 0; f < firsts.Count; f++)
            {
                for (var l = 0; l < lasts.Count; l++)
                {
                    var localPart = definition.Build(firsts[f], lasts[l], name.MiddleInitial);
                    if (localPart is null || localPart.Length > MaxLocalPartLength || RoleAddresses.IsRole(localPart))
                    {
                        continue;
                    }

                    // A pattern that ignores a name must not be penalised for that name's later spellings.
                    var weight = Math.Pow(SpellingDecay, (definition.UsesFirst ? f : 0) + (definition.UsesLast ? l : 0));
                    generated.Add((new Candidate(localPart, definition.Pattern, definition.Prior * weight), generated.Count));
                }
            }
        }

        return generated
            .OrderByDescending(g => g.Candidate.Prior)
            .ThenBy(g => g.Order)
            .Select(g => g.Candidate)
            .DistinctBy(c => c.LocalPart)
            .OrderBy(c => learned is not null && c.Pattern == learned.Pattern ? 0 : 1)
            .Take(maxCount)
            .ToList();
    }
}
