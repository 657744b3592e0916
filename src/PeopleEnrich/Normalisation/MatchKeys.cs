using System.Globalization;
using System.Text;

namespace PeopleEnrich.Normalisation;

/// <summary>
/// Keys under which people are matched: insensitive to case, accents and surrounding or repeated
/// spaces ("  GRÂCE " and "grace" meet), and LinkedIn profile URLs written any usual way.
/// </summary>
public static class MatchKeys
{
    // Letters that Unicode decomposition does not reduce to an ASCII base letter.
    private static readonly Dictionary<char, string> Transliterations = new()
    {
        ['ß'] = "ss", ['æ'] = "ae", ['ø'] = "o", ['œ'] = "oe", ['ł'] = "l", ['đ'] = "d", ['ð'] = "d", ['þ'] = "th", ['ı'] = "i",
    };

    public static string Name(string name)
    {
        var decomposed = name.Trim().ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var key = new StringBuilder(decomposed.Length);
        var lastWasSpace = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                if (!lastWasSpace)
                {
                    key.Append(' ');
                }

                lastWasSpace = true;
                continue;
            }

            lastWasSpace = false;
            if (Transliterations.TryGetValue(c, out var replacement))
            {
                key.Append(replacement);
            }
            else
            {
                key.Append(c);
            }
        }

        return key.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>"https://www.LinkedIn.com/in/Grace-Hopper/?trk=x" is "linkedin.com/in/grace-hopper"; null if not a URL.</summary>
    public static string? LinkedIn(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        var value = url.Trim().ToLowerInvariant();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            value = value[(scheme + 3)..];
        }

        var end = value.IndexOfAny(['?', '#']);
        if (end >= 0)
        {
            value = value[..end];
        }

        if (value.StartsWith("www.", StringComparison.Ordinal))
        {
            value = value[4..];
        }

        value = Uri.UnescapeDataString(value).TrimEnd('/');
        return value.Length == 0 ? null : value;
    }
}
