using System.Globalization;
using System.Text;

namespace PeopleEnrich.Spreadsheets;

/// <summary>What a column of a lead file holds, as far as enrichment is concerned.</summary>
public enum LeadField
{
    FirstName,
    LastName,
    Domain,
    Company,
    LinkedIn,
}

/// <summary>
/// Which columns hold which <see cref="LeadField"/>, recognised by their headers in any order, case,
/// accents and separators ("First_Name", "prénom", "Company Website"). A field may have several
/// columns, best first: a row whose first one is empty uses the next ("Domain" empty, "Website" set).
/// </summary>
public sealed class LeadColumns
{
    // Spellings after Key(): lower case, accents removed, "_", "-" and "." as spaces. Order is preference.
    private static readonly (LeadField Field, string[] Headers)[] Spellings =
    [
        (LeadField.FirstName, ["first name", "firstname", "given name", "givenname", "forename", "first", "prenom", "vorname", "nombre"]),
        (LeadField.LastName, ["last name", "lastname", "surname", "family name", "familyname", "last", "nom", "nom de famille", "nachname", "familienname", "apellido", "apellidos"]),
        (LeadField.Domain, ["domain", "company domain", "email domain", "domain name", "domaine", "website", "company website", "site web", "site", "webseite", "sitio web", "url", "company url", "website url"]),
        (LeadField.Company, ["company", "company name", "organization", "organisation", "organization name", "account name", "societe", "entreprise", "firma", "unternehmen", "empresa"]),
        (LeadField.LinkedIn, ["linkedin", "linkedin url", "linkedin profile", "linkedin profile url", "person linkedin url"]),
    ];

    private readonly Dictionary<LeadField, IReadOnlyList<int>> _columns;

    private LeadColumns(IReadOnlyList<string> headers, Dictionary<LeadField, IReadOnlyList<int>> columns)
    {
        Headers = headers;
        _columns = columns;
    }

    public IReadOnlyList<string> Headers { get; }

    /// <summary>The columns of <paramref name="field"/>, best first; empty when the file has none.</summary>
    public IReadOnlyList<int> Of(LeadField field) => _columns.TryGetValue(field, out var columns) ? columns : [];

    /// <summary>The columns no field uses: carried to the output unchanged, like every column.</summary>
    public IEnumerable<int> Unused => Enumerable.Range(0, Headers.Count).Where(i => !_columns.Values.Any(c => c.Contains(i)));

    /// <summary>The fields a row cannot be sent without.</summary>
    public static IReadOnlyList<LeadField> Required { get; } = [LeadField.FirstName, LeadField.LastName, LeadField.Domain];

    public IReadOnlyList<LeadField> MissingRequired => Required.Where(f => Of(f).Count == 0).ToList();

    public static LeadColumns Recognise(IReadOnlyList<string> headers)
    {
        var keys = headers.Select(Key).ToList();
        var columns = new Dictionary<LeadField, IReadOnlyList<int>>();
        foreach (var (field, spellings) in Spellings)
        {
            var found = spellings.SelectMany(spelling => keys.Select((key, i) => (key, i)).Where(c => c.key == spelling).Select(c => c.i)).Distinct().ToList();
            if (found.Count > 0)
            {
                columns[field] = found;
            }
        }

        return new LeadColumns(headers, columns);
    }

    /// <summary>
    /// The columns a person chose (the console's selects): each field's columns, best first, by position in
    /// <paramref name="headers"/>; a field left out has none. Positions outside the header are an error.
    /// </summary>
    public static LeadColumns Chosen(IReadOnlyList<string> headers, IReadOnlyDictionary<LeadField, IReadOnlyList<int>> chosen)
    {
        if (chosen.Values.SelectMany(c => c).Any(i => i < 0 || i >= headers.Count))
        {
            throw new ArgumentOutOfRangeException(nameof(chosen), $"the file has {headers.Count} columns");
        }

        return new LeadColumns(headers, chosen.Where(c => c.Value.Count > 0).ToDictionary(c => c.Key, c => (IReadOnlyList<int>)c.Value.Distinct().ToList()));
    }

    /// <summary>Every field with a column, and its columns best first.</summary>
    public IReadOnlyDictionary<LeadField, IReadOnlyList<int>> Mapping => _columns;

    public static string Describe(LeadField field) => field switch
    {
        LeadField.FirstName => "first name",
        LeadField.LastName => "last name",
        LeadField.Domain => "domain",
        LeadField.Company => "company",
        LeadField.LinkedIn => "LinkedIn",
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    /// <summary>The header as compared: "Prénom_ " is "prenom", "Company-Website" is "company website".</summary>
    internal static string Key(string header)
    {
        var decomposed = header.Trim().ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var key = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            key.Append(c is '_' or '-' or '.' || char.IsWhiteSpace(c) ? ' ' : c);
        }

        return string.Join(' ', key.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
