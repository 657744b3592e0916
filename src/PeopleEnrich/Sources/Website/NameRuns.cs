using System.Text;
using System.Text.RegularExpressions;
using PeopleEnrich.Normalisation;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// People's names in page text: runs of two to four capitalised words on one line ("Jane Doe",
/// "Jean-Pierre DUPONT", "Anna van der Berg", "Jane Q. Doe"), minus the capitalised words of titles,
/// labels and company forms that surround names on team pages. A heuristic: what it finds is checked
/// against something else before it is used (an address built from it, or the name of the person asked for).
/// </summary>
public static partial class NameRuns
{
    private const int MaxWords = 4;

    private static readonly HashSet<string> Particles = new(StringComparer.Ordinal)
    {
        "van", "von", "de", "der", "den", "du", "da", "di", "del", "della", "des", "la", "le", "ter", "ten", "zu", "dos", "das", "bin", "al", "y",
    };

    private static readonly HashSet<string> NotNames = new(StringComparer.OrdinalIgnoreCase)
    {
        // Labels beside contact details.
        "tel", "tél", "phone", "telephone", "téléphone", "telefon", "telefono", "teléfono", "fax", "mobile", "mobil", "portable", "cell",
        "email", "e-mail", "mail", "contact", "contacts", "kontakt", "contatti", "contacto", "office", "switchboard", "standard",
        "zentrale", "centralino", "centralita", "reception", "empfang", "accueil", "web", "website", "address", "adresse",
        // Titles and functions.
        "head", "chief", "executive", "officer", "director", "directeur", "directrice", "direktor", "direttore", "manager", "managing",
        "sales", "marketing", "founder", "co-founder", "cofounder", "partner", "senior", "junior", "engineer", "developer", "designer",
        "lead", "vice", "president", "assistant", "geschäftsführer", "geschäftsführerin", "inhaber", "inhaberin", "gérant", "gérante",
        "ceo", "cto", "cfo", "coo", "cmo", "vp", "board", "management", "leadership", "human", "resources", "finance", "operations",
        "product", "technology", "customer", "success", "support", "service", "services", "press", "accounts", "account", "business", "hr",
        "mr", "mrs", "ms", "miss", "dr", "prof", "herr", "frau", "mme", "mlle", "monsieur", "madame", "signor", "signora", "sir",
        // Page furniture.
        "team", "équipe", "equipe", "about", "us", "our", "we", "the", "and", "meet", "welcome", "hello", "get", "in", "touch",
        "people", "home", "page", "impressum", "imprint", "legal", "notice", "mentions", "légales", "privacy", "policy", "terms",
        "copyright", "all", "rights", "reserved", "news", "blog", "careers", "jobs", "company", "group", "headquarters",
        "street", "road", "avenue", "rue", "strasse", "straße", "str", "platz", "via",
        // Company forms.
        "gmbh", "ag", "sa", "sas", "sarl", "ltd", "llc", "inc", "plc", "bv", "nv", "kg", "spa", "srl", "limited", "corp", "co",
    };

    /// <summary>The names written in <paramref name="text"/>, each once, as written (words joined by one space).</summary>
    public static IReadOnlyList<string> Find(string text)
    {
        var names = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            // "MÜLLER, Hans": a surname in capitals, a comma, then the first name (directories, French and German pages).
            names.AddRange(SurnameFirst().Matches(line).Where(m => !NotNames.Contains(m.Groups["last"].Value) && !NotNames.Contains(m.Groups["first"].Value))
                .Select(m => $"{m.Groups["first"].Value} {m.Groups["last"].Value}"));

            var run = new List<string>();
            var previousEnd = -1;
            foreach (Match word in Word().Matches(line))
            {
                var gap = previousEnd < 0 ? "" : line[previousEnd..word.Index];
                var joined = previousEnd < 0 || gap.All(c => c is ' ' or '\t' or '\u00a0') || (gap.Trim() == "." && run.Count > 0 && run[^1].Length == 1);
                if (!joined)
                {
                    Close(run, names);
                }

                var value = word.Value;
                if (IsNameWord(value) || (run.Count > 0 && Particles.Contains(value)))
                {
                    run.Add(value);
                }
                else
                {
                    Close(run, names);
                }

                previousEnd = word.Index + word.Length;
            }

            Close(run, names);
        }

        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every way to read a name as (first names, last names): "Jean Pierre Martin" is Jean + Pierre Martin, or Jean Pierre + Martin.</summary>
    public static IEnumerable<(string First, string Last)> Splits(string name)
    {
        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 1; i < words.Length; i++)
        {
            yield return (string.Join(' ', words[..i]), string.Join(' ', words[i..]));
        }
    }

    /// <summary>Whether <paramref name="text"/> writes this person's name, first name first or last name first, ignoring case, accents and punctuation.</summary>
    public static bool Mentions(string text, string firstName, string lastName)
    {
        var first = Folded(firstName);
        var last = Folded(lastName);
        if (first.Length == 0 || last.Length == 0)
        {
            return false;
        }

        var folded = $" {Folded(text)} ";
        return folded.Contains($" {first} {last} ", StringComparison.Ordinal) || folded.Contains($" {last} {first} ", StringComparison.Ordinal);
    }

    private static string Folded(string text)
    {
        var key = MatchKeys.Name(text);
        var folded = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            folded.Append(char.IsLetterOrDigit(c) ? c : ' ');
        }

        return Spaces().Replace(folded.ToString(), " ").Trim();
    }

    private static bool IsNameWord(string word)
    {
        if (!char.IsUpper(word[0]) || NotNames.Contains(word))
        {
            return false;
        }

        // An initial, a capitalised word, or a surname in capitals (DUPONT), but never letters and digits mixed.
        return word.Length == 1 || word.Skip(1).Any(char.IsLower) || word.Where(char.IsLetter).All(char.IsUpper);
    }

    private static void Close(List<string> run, List<string> names)
    {
        // Particles and initials cannot end a name ("Jane van", "Jane Q").
        while (run.Count > 0 && (Particles.Contains(run[^1]) || run[^1].Length == 1))
        {
            run.RemoveAt(run.Count - 1);
        }

        var words = run.Count(w => !Particles.Contains(w) && w.Length > 1);
        if (words is >= 2 and <= MaxWords && run[0].Length > 1)
        {
            names.Add(string.Join(' ', run));
        }

        run.Clear();
    }

    [GeneratedRegex(@"\p{L}[\p{L}\p{M}'’-]*")]
    private static partial Regex Word();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"(?<![\p{L}\p{M}'’-])(?<last>\p{Lu}[\p{Lu}'’-]*\p{Lu}),\s+(?<first>\p{Lu}\p{Ll}[\p{L}\p{M}'’-]*)(?![\p{L}\p{M}])")]
    private static partial Regex SurnameFirst();
}
