using System.Globalization;
using System.Text;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// The pages of a site where people and their contact details are likely: links from the home page
/// whose path or text speaks of contact, team, people, about, leadership or the legal imprint in the
/// common languages, then those well-known paths themselves.
/// </summary>
public static class LikelyPages
{
    private static readonly string[] Keywords =
    [
        "contact", "kontakt", "contatt", "contacto", "contato", "team", "equipe", "equipo", "squadra", "people", "staff",
        "leadership", "management", "about", "uber-uns", "ueber-uns", "ueberuns", "qui-sommes-nous", "a-propos", "apropos",
        "chi-siamo", "nosotros", "over-ons", "impressum", "imprint", "mentions-legales", "legal-notice", "ansprechpartner",
        "mitarbeiter", "personen", "directors", "board",
    ];

    public static IReadOnlyList<string> WellKnownPaths { get; } =
    [
        "/contact", "/team", "/about", "/impressum", "/kontakt", "/about-us", "/people", "/leadership", "/imprint",
        "/mentions-legales", "/equipe", "/chi-siamo", "/contact-us", "/ueber-uns", "/contatti", "/contacto", "/over-ons",
    ];

    private static readonly string[] NotPages = [".pdf", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".zip", ".doc", ".docx", ".xls", ".xlsx", ".mp4", ".mp3", ".css", ".js"];

    /// <summary>The pages to fetch after the home page at <paramref name="home"/>, most promising first, each once.</summary>
    public static IReadOnlyList<Uri> After(Uri home, IReadOnlyList<PageLink> links, SiteScope scope)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { Key(home) };
        var pages = new List<Uri>();
        var fromLinks = links
            .Where(link => scope.Contains(link.Url) && !NotPages.Any(ext => link.Url.AbsolutePath.EndsWith(ext, StringComparison.OrdinalIgnoreCase)))
            .Select((link, order) => (link.Url, Rank: Rank(link), order))
            .Where(link => link.Rank < Keywords.Length)
            .OrderBy(link => link.Rank).ThenBy(link => link.order)
            .Select(link => link.Url);
        foreach (var url in fromLinks.Concat(WellKnownPaths.Select(path => new Uri(home, path))))
        {
            if (seen.Add(Key(url)))
            {
                pages.Add(url);
            }
        }

        return pages;
    }

    /// <summary>The index of the first keyword in the link's path or text; past the end when none.</summary>
    private static int Rank(PageLink link)
    {
        var path = Folded(Uri.UnescapeDataString(link.Url.AbsolutePath));
        var text = Folded(link.Text).Replace(' ', '-');
        for (var i = 0; i < Keywords.Length; i++)
        {
            if (path.Contains(Keywords[i], StringComparison.Ordinal) || text.Contains(Keywords[i], StringComparison.Ordinal))
            {
                return i;
            }
        }

        return Keywords.Length;
    }

    // "/Über-uns/" and "/ueber-uns" are one page to us only when the server says so; here only case, accents and a final slash are ignored.
    private static string Key(Uri url) => $"{url.IdnHost}{Folded(url.AbsolutePath).TrimEnd('/')}";

    private static string Folded(string text)
    {
        var decomposed = text.ToLowerInvariant().Normalize(NormalizationForm.FormD);
        return new string(decomposed.Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark).ToArray());
    }
}
