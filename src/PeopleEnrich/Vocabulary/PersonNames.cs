using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Vocabulary;

/// <summary>
/// A person's name reduced to what may appear in an address. Every spelling is [a-z0-9] with, only in
/// compound spellings, inner hyphens ("jean-pierre"); the most likely spelling comes first. Nothing
/// else a person typed survives, so nothing else can reach the SMTP wire.
/// </summary>
public sealed record NameParts(IReadOnlyList<string> Firsts, IReadOnlyList<string> Lasts, string? MiddleInitial)
{
    public static NameParts None { get; } = new([], [], null);

    /// <summary>Addresses need at least one of the two names; with neither there is nothing to try.</summary>
    public bool IsEmpty => Firsts.Count == 0 && Lasts.Count == 0;
}

/// <summary>
/// Turns a raw first and last name into <see cref="NameParts"/>:
/// <list type="bullet">
/// <item>letters are transliterated to ASCII; umlauts and Nordic letters keep their expanded spelling as an
/// alternative (Müller: muller, mueller), the plain-letter spelling first;</item>
/// <item>titles before the name (Dr, Prof, Mr…) and suffixes after it (Jr, III, PhD…) are dropped;</item>
/// <item>apostrophes vanish (O'Neil: oneil); a word in a script with no ASCII transliteration is dropped
/// whole rather than guessed at;</item>
/// <item>last names: leading particles (van der Berg) give "vanderberg" then "berg"; compounds
/// (Garcia-Lopez, Garcia Lopez) give "garcialopez", "garcia-lopez", then the first part "garcia";</item>
/// <item>first names: a compound (Jean-Pierre) gives "jeanpierre", "jean-pierre" and its initials "jp";
/// two words (Mary Ann) give "maryann" then "mary", and the second word's initial is the middle initial;
/// trailing one-letter words ("John F.") are middle initials, not part of the first name;</item>
/// <item>a whole name typed in one field ("Dr. John Smith Jr.", last name empty) is split: the final
/// word (with its particles) is the last name.</item>
/// </list>
/// </summary>
public static partial class PersonNames
{
    // Longer input is not a name; the cap also bounds the work done on hostile input.
    private const int MaxInputLength = 200;

    // Each name part must leave room for the other and a separator inside the 64-octet local part.
    private const int MaxPartLength = 40;

    private const int MaxVariants = 6;

    public static NameParts Parse(string? firstName, string? lastName)
    {
        var firsts = NameWords.Read(firstName);
        var lasts = NameWords.Read(lastName);

        firsts = Honorifics.WithoutTitles(firsts);
        if (firsts.Count == 0)
        {
            lasts = Honorifics.WithoutTitles(lasts);
        }

        lasts = Honorifics.WithoutSuffixes(lasts);
        if (lasts.Count == 0)
        {
            firsts = Honorifics.WithoutSuffixes(firsts);
        }

        (firsts, lasts) = SplitWholeNameInOneField(firsts, lasts);

        var (firstWords, middleInitial) = SplitMiddleInitials(firsts);
        return new NameParts(Clean(FirstSpellings(firstWords)), Clean(LastSpellings(lasts)), middleInitial);
    }

    private static (IReadOnlyList<NameWord> Firsts, IReadOnlyList<NameWord> Lasts) SplitWholeNameInOneField(
        IReadOnlyList<NameWord> firsts, IReadOnlyList<NameWord> lasts)
    {
        if (lasts.Count == 0 && firsts.Count >= 2)
        {
            var lastStart = firsts.Count - 1;
            while (lastStart > 1 && Particles.Is(firsts[lastStart - 1]))
            {
                lastStart--;
            }

            return (firsts.Take(lastStart).ToList(), firsts.Skip(lastStart).ToList());
        }

        if (firsts.Count == 0 && lasts.Count >= 2)
        {
            return (lasts.Take(1).ToList(), lasts.Skip(1).ToList());
        }

        return (firsts, lasts);
    }

    // "John F." is John with middle initial F; "Mary Ann" is Mary Ann with middle initial A.
    private static (IReadOnlyList<NameWord> Words, string? MiddleInitial) SplitMiddleInitials(IReadOnlyList<NameWord> words)
    {
        var kept = words.ToList();
        string? peeled = null;
        while (kept.Count > 1 && kept[^1].IsSingleLetter)
        {
            peeled = kept[^1].Initial;
            kept.RemoveAt(kept.Count - 1);
        }

        var middle = peeled ?? (kept.Count > 1 ? kept[1].Initial : null);
        return (kept, middle is not null && SafePart().IsMatch(middle) ? middle : null);
    }

    private static IEnumerable<string> FirstSpellings(IReadOnlyList<NameWord> words)
    {
        if (words.Count == 0)
        {
            yield break;
        }

        foreach (var spelling in Spelling.All)
        {
            var segments = words.SelectMany(w => w.Segments).Select(spelling).ToList();
            yield return string.Concat(segments);
            if (words.Count > 1)
            {
                // Mary Ann: the first word alone, as most address systems keep only it.
                var first = words[0].Segments.Select(spelling).ToList();
                yield return string.Concat(first);
                if (first.Count > 1)
                {
                    yield return string.Join('-', first);
                }
            }
            else if (segments.Count > 1)
            {
                yield return string.Join('-', segments);
            }
        }

        // Jean-Pierre's initials ("jp") last: some systems abbreviate compound first names.
        var firstWordSegments = words[0].Segments;
        if (words.Count == 1 && firstWordSegments.Count > 1)
        {
            yield return string.Concat(firstWordSegments.Select(s => Spelling.Plain(s)[..1]));
        }
    }

    private static IEnumerable<string> LastSpellings(IReadOnlyList<NameWord> words)
    {
        var particles = words.TakeWhile(Particles.Is).ToList();
        var core = words.Skip(particles.Count).ToList();
        if (core.Count == 0)
        {
            // A last name made only of particle-like words ("Van", "La") is just a name.
            (particles, core) = ([], words.ToList());
        }

        var leading = particles.SelectMany(w => w.Segments).ToList();
        var parts = core.SelectMany(w => w.Segments).ToList();

        // "al-rashid", "d-angelo" written with a hyphen: the leading particle is a particle all the same.
        if (leading.Count == 0 && parts.Count > 1 && Particles.Is(parts[0]))
        {
            leading = [parts[0]];
            parts = parts.Skip(1).ToList();
        }

        foreach (var spelling in Spelling.All)
        {
            var prefix = string.Concat(leading.Select(spelling));
            var names = parts.Select(spelling).ToList();
            yield return prefix + string.Concat(names);
            if (leading.Count > 0)
            {
                yield return string.Concat(names);
            }

            if (names.Count > 1)
            {
                yield return string.Join('-', names);
                yield return names[0];
            }
        }
    }

    // The last gate: whatever the rules above produced, only [a-z0-9] with inner hyphens leaves here.
    private static IReadOnlyList<string> Clean(IEnumerable<string> spellings) =>
        spellings
            .Where(s => s.Length is > 0 and <= MaxPartLength && SafePart().IsMatch(s))
            .Distinct(StringComparer.Ordinal)
            .Take(MaxVariants)
            .ToList();

    [GeneratedRegex("^[a-z0-9]+(?:-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafePart();

    /// <summary>One name word: its hyphen-separated segments, each in its two spellings.</summary>
    private sealed record NameWord(IReadOnlyList<Segment> Segments)
    {
        public string Plain => string.Join('-', Segments.Select(s => s.Plain));

        public bool IsSingleLetter => Segments.Count == 1 && Segments[0].Plain.Length == 1;

        public string Initial => Segments[0].Plain[..1];
    }

    /// <summary>A run of letters, spelled with diacritics dropped (Plain) and with umlauts expanded (Expanded).</summary>
    private sealed record Segment(string Plain, string Expanded);

    private static class Spelling
    {
        public static readonly Func<Segment, string> Plain = s => s.Plain;
        public static readonly Func<Segment, string> Expanded = s => s.Expanded;

        // Plain first: most address systems simply strip diacritics.
        public static readonly IReadOnlyList<Func<Segment, string>> All = [Plain, Expanded];
    }

    /// <summary>Splits raw text into name words of transliterated letters; every other character is a word break.</summary>
    private static class NameWords
    {
        public static IReadOnlyList<NameWord> Read(string? raw)
        {
            var text = WellFormed(raw ?? "");
            var words = new List<NameWord>();
            var segments = new List<Segment>();
            var plain = new StringBuilder();
            var expanded = new StringBuilder();
            var transliterable = true;

            void EndSegment()
            {
                if (plain.Length > 0)
                {
                    segments.Add(new Segment(plain.ToString(), expanded.ToString()));
                }

                plain.Clear();
                expanded.Clear();
            }

            void EndWord()
            {
                EndSegment();
                // A word with a letter we cannot spell in ASCII would be spelled wrong: leave it out.
                if (segments.Count > 0 && transliterable)
                {
                    words.Add(new NameWord(segments.ToList()));
                }

                segments.Clear();
                transliterable = true;
            }

            foreach (var rune in text.EnumerateRunes())
            {
                switch (Classify(rune))
                {
                    case CharacterRole.Letter:
                        if (Transliteration.TryAscii(rune, out var asPlain, out var asExpanded))
                        {
                            plain.Append(asPlain);
                            expanded.Append(asExpanded);
                        }
                        else
                        {
                            transliterable = false;
                        }

                        break;
                    case CharacterRole.Hyphen:
                        EndSegment();
                        break;
                    case CharacterRole.Invisible:
                        break;
                    default:
                        EndWord();
                        break;
                }
            }

            EndWord();
            return words;
        }

        // Lone surrogates would make normalisation throw; they carry no name, so they are dropped.
        private static string WellFormed(string raw)
        {
            var bounded = raw.Length > MaxInputLength ? raw[..MaxInputLength] : raw;
            var runes = new StringBuilder(bounded.Length);
            foreach (var rune in bounded.EnumerateRunes())
            {
                if (rune != Rune.ReplacementChar)
                {
                    runes.Append(rune.ToString());
                }
            }

            return runes.ToString().Normalize(NormalizationForm.FormC).ToLowerInvariant();
        }

        private static CharacterRole Classify(Rune rune)
        {
            if (rune.Value is '\'' or '\u2019' or '\u2018' or '\u02BC' or '`' or '\u00B4')
            {
                return CharacterRole.Invisible; // O'Neil is oneil: an apostrophe joins.
            }

            if (rune.Value is '-' or '\u2010' or '\u2011')
            {
                return CharacterRole.Hyphen;
            }

            if (Rune.IsLetter(rune) || (rune.IsAscii && Rune.IsDigit(rune)))
            {
                return CharacterRole.Letter;
            }

            return Rune.GetUnicodeCategory(rune) switch
            {
                // Marks left after composition, and format characters (RTL marks, zero-width joiners,
                // soft hyphens) are invisible: they must neither split a name nor survive into it.
                UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                    or UnicodeCategory.Format => CharacterRole.Invisible,
                _ => CharacterRole.Break,
            };
        }

        private enum CharacterRole
        {
            Letter,
            Hyphen,
            Invisible,
            Break,
        }
    }

    private static class Transliteration
    {
        // Letters whose usual ASCII spellings are not what stripping diacritics gives, or that have two.
        private static readonly Dictionary<int, (string Plain, string Expanded)> Special = new()
        {
            ['ä'] = ("a", "ae"), ['ö'] = ("o", "oe"), ['ü'] = ("u", "ue"),
            ['å'] = ("a", "aa"), ['ø'] = ("o", "oe"),
            ['æ'] = ("ae", "ae"), ['œ'] = ("oe", "oe"), ['ß'] = ("ss", "ss"),
            ['þ'] = ("th", "th"), ['ð'] = ("d", "d"), ['đ'] = ("d", "d"), ['ł'] = ("l", "l"),
            ['ı'] = ("i", "i"), ['ħ'] = ("h", "h"), ['ŧ'] = ("t", "t"), ['ŋ'] = ("n", "n"),
        };

        // Cyrillic and Greek, as people of those scripts usually spell their work addresses: the plain
        // spelling is the common English-language one (BGN/PCGN-like: Щербакова gives shcherbakova), the
        // expanded one the other usual choice (the Ukrainian passport's iu/ia, Greek η as e). The soft
        // and hard signs are silent. Accented letters are looked up by their base letter.
        private static readonly Dictionary<int, (string Plain, string Expanded)> OtherScripts = new()
        {
            ['а'] = ("a", "a"), ['б'] = ("b", "b"), ['в'] = ("v", "v"), ['г'] = ("g", "g"), ['д'] = ("d", "d"),
            ['е'] = ("e", "e"), ['ё'] = ("e", "yo"), ['ж'] = ("zh", "zh"), ['з'] = ("z", "z"), ['и'] = ("i", "i"),
            ['й'] = ("y", "i"), ['к'] = ("k", "k"), ['л'] = ("l", "l"), ['м'] = ("m", "m"), ['н'] = ("n", "n"),
            ['о'] = ("o", "o"), ['п'] = ("p", "p"), ['р'] = ("r", "r"), ['с'] = ("s", "s"), ['т'] = ("t", "t"),
            ['у'] = ("u", "u"), ['ф'] = ("f", "f"), ['х'] = ("kh", "h"), ['ц'] = ("ts", "c"), ['ч'] = ("ch", "ch"),
            ['ш'] = ("sh", "sh"), ['щ'] = ("shch", "sch"), ['ъ'] = ("", ""), ['ы'] = ("y", "i"), ['ь'] = ("", ""),
            ['э'] = ("e", "e"), ['ю'] = ("yu", "iu"), ['я'] = ("ya", "ia"), ['і'] = ("i", "i"), ['ї'] = ("yi", "i"),
            ['є'] = ("ye", "ie"), ['ґ'] = ("g", "g"), ['ў'] = ("u", "w"), ['ј'] = ("j", "j"), ['љ'] = ("lj", "lj"),
            ['њ'] = ("nj", "nj"), ['ћ'] = ("c", "c"), ['ђ'] = ("dj", "d"), ['џ'] = ("dz", "dz"),
            ['α'] = ("a", "a"), ['β'] = ("v", "b"), ['γ'] = ("g", "g"), ['δ'] = ("d", "d"), ['ε'] = ("e", "e"),
            ['ζ'] = ("z", "z"), ['η'] = ("i", "e"), ['θ'] = ("th", "th"), ['ι'] = ("i", "i"), ['κ'] = ("k", "k"),
            ['λ'] = ("l", "l"), ['μ'] = ("m", "m"), ['ν'] = ("n", "n"), ['ξ'] = ("x", "ks"), ['ο'] = ("o", "o"),
            ['π'] = ("p", "p"), ['ρ'] = ("r", "r"), ['σ'] = ("s", "s"), ['ς'] = ("s", "s"), ['τ'] = ("t", "t"),
            ['υ'] = ("u", "y"), ['φ'] = ("f", "ph"), ['χ'] = ("ch", "h"), ['ψ'] = ("ps", "ps"), ['ω'] = ("o", "o"),
        };

        public static bool TryAscii(Rune letter, out string plain, out string expanded)
        {
            if (letter.Value is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                plain = expanded = ((char)letter.Value).ToString();
                return true;
            }

            if (Special.TryGetValue(letter.Value, out var known))
            {
                (plain, expanded) = known;
                return true;
            }

            if (OtherScripts.TryGetValue(letter.Value, out var spelled)
                || OtherScripts.TryGetValue(letter.ToString().Normalize(NormalizationForm.FormD)[0], out spelled))
            {
                (plain, expanded) = spelled;
                return true;
            }

            // Compatibility decomposition turns é into e + accent, ﬁ into fi and fullwidth ｊ into j; the
            // ASCII letters it leaves are the spelling, and a letter that leaves none has no ASCII spelling.
            var ascii = new string(letter.ToString().Normalize(NormalizationForm.FormKD)
                .ToLowerInvariant()
                .Where(c => c is >= 'a' and <= 'z')
                .ToArray());
            plain = expanded = ascii;
            return ascii.Length > 0;
        }
    }

    private static class Honorifics
    {
        private static readonly HashSet<string> Titles =
        [
            "dr", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "sir", "dame", "lord", "lady",
            "rev", "fr", "herr", "frau", "mme", "mlle", "dott", "ing", "dipl", "mag", "sr", "sra", "srta",
        ];

        private static readonly HashSet<string> Suffixes =
        [
            "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "dds", "dmd", "esq", "mba", "cpa", "jd",
        ];

        public static IReadOnlyList<NameWord> WithoutTitles(IReadOnlyList<NameWord> words)
        {
            var start = 0;
            while (start < words.Count - 1 && Titles.Contains(words[start].Plain))
            {
                start++;
            }

            return words.Skip(start).ToList();
        }

        // Suffixes written with dots ("Ph.D.", "M.D.") arrive as two one- or two-letter words.
        public static IReadOnlyList<NameWord> WithoutSuffixes(IReadOnlyList<NameWord> words)
        {
            var end = words.Count;
            while (end > 1)
            {
                if (Suffixes.Contains(words[end - 1].Plain))
                {
                    end--;
                }
                else if (end > 2 && words[end - 1].Plain.Length <= 2 && words[end - 2].Plain.Length <= 2
                         && Suffixes.Contains(words[end - 2].Plain + words[end - 1].Plain))
                {
                    end -= 2;
                }
                else
                {
                    break;
                }
            }

            return words.Take(end).ToList();
        }
    }

    private static class Particles
    {
        private static readonly HashSet<string> Known =
        [
            "van", "von", "der", "den", "de", "del", "della", "delle", "dei", "di", "da", "das", "dos", "du",
            "le", "la", "les", "ten", "ter", "te", "zu", "zum", "zur", "af", "av", "al", "el", "bin", "ibn",
        ];

        public static bool Is(NameWord word) => word.Segments.Count == 1 && Is(word.Segments[0]);

        public static bool Is(Segment segment) => Known.Contains(segment.Plain);
    }
}
