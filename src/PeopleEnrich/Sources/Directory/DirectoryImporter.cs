using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Cache;

namespace PeopleEnrich.Sources.Directory;

public sealed record ImportNote(long Line, string Message);

public sealed record ImportReport(int RowsRead, int Imported, int Updated, int Unchanged, IReadOnlyList<ImportNote> Skipped, IReadOnlyList<ImportNote> Warnings)
{
    public int SkippedCount => Skipped.Count;
}

/// <summary>
/// Loads known contacts from a CSV file (a CRM export): a header row, the columns firstname,
/// lastname, domain, email, phone, linkedin_url, company_name and region in any order and case.
/// Importing the same file again changes nothing.
/// </summary>
public sealed class DirectoryImporter(DirectoryStore store, ResultsCache cache)
{
    public static readonly string[] KnownColumns = ["firstname", "lastname", "domain", "email", "phone", "linkedin_url", "company_name", "region"];

    /// <summary>What a contact's evidence names as its file when the caller gave no name.</summary>
    public const string UnnamedFile = "(unnamed import)";

    public Task<ImportReport> ImportAsync(TextReader input, CancellationToken cancellationToken) => ImportAsync(input, UnnamedFile, cancellationToken);

    /// <param name="fileName">The file's name, kept with each contact (with its line) as the evidence of what it gives.</param>
    public async Task<ImportReport> ImportAsync(TextReader input, string fileName, CancellationToken cancellationToken)
    {
        using var csv = new CsvReader(input, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
            MissingFieldFound = null,
            BadDataFound = null,
            DetectDelimiter = true,
        });
        if (!await csv.ReadAsync() || !csv.ReadHeader())
        {
            throw new DirectoryImportException("The file is empty: the first line must be a header row.");
        }

        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var hasNames = header.Contains("firstname") && header.Contains("lastname") && header.Contains("domain");
        if (!hasNames && !header.Contains("linkedin_url"))
        {
            throw new DirectoryImportException(
                $"The header row ({string.Join(", ", csv.HeaderRecord!)}) needs firstname, lastname and domain, or linkedin_url. Known columns: {string.Join(", ", KnownColumns)}.");
        }

        var skipped = new List<ImportNote>();
        var warnings = new List<ImportNote>();
        var unknown = header.Except(KnownColumns).ToList();
        if (unknown.Count > 0)
        {
            warnings.Add(new ImportNote(1, $"ignored unknown column{(unknown.Count == 1 ? "" : "s")}: {string.Join(", ", unknown)}"));
        }

        // Last row wins for one contact, so that importing the same file twice ends in the same state.
        var byKey = new Dictionary<string, (long Line, DirectoryContact Contact)>(StringComparer.Ordinal);
        var rows = 0;
        while (await csv.ReadAsync())
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows++;
            var line = csv.Parser.RawRow;
            var contact = ReadRow(csv, fileName, line, skipped, warnings);
            if (contact is null)
            {
                continue;
            }

            if (byKey.TryGetValue(contact.ContactKey, out var earlier))
            {
                skipped.Add(new ImportNote(earlier.Line, $"the same contact appears again on line {line}, which is the one imported"));
            }

            byKey[contact.ContactKey] = (line, contact);
        }

        var contacts = byKey.Values.OrderBy(v => v.Line).Select(v => v.Contact).ToList();
        var outcomes = await store.UpsertAsync(contacts, cancellationToken);
        var changed = contacts.Where((_, i) => outcomes[i] != UpsertOutcome.Unchanged).ToList();
        await cache.ForgetAsync(
            changed.Select(c => c.Domain).OfType<string>().ToHashSet(),
            changed.Select(c => c.LinkedinKey).OfType<string>().ToHashSet(),
            cancellationToken);
        return new ImportReport(
            rows,
            outcomes.Count(o => o == UpsertOutcome.Imported),
            outcomes.Count(o => o == UpsertOutcome.Updated),
            outcomes.Count(o => o == UpsertOutcome.Unchanged),
            skipped.OrderBy(s => s.Line).ToList(),
            warnings);
    }

    private static DirectoryContact? ReadRow(CsvReader csv, string fileName, long line, List<ImportNote> skipped, List<ImportNote> warnings)
    {
        string? Field(string name) => csv.TryGetField<string>(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        var firstName = Field("firstname");
        var lastName = Field("lastname");
        var rawDomain = Field("domain");
        var domain = DomainName.NormaliseOrNull(rawDomain);
        var linkedIn = Field("linkedin_url");
        var linkedInKey = MatchKeys.LinkedIn(linkedIn);
        if (rawDomain is not null && domain is null)
        {
            warnings.Add(new ImportNote(line, $"domain '{rawDomain}' is not a company domain; ignored"));
        }

        var named = firstName is not null && lastName is not null && domain is not null;
        if (!named && linkedInKey is null)
        {
            skipped.Add(new ImportNote(line, "needs firstname, lastname and domain, or linkedin_url"));
            return null;
        }

        string? email = null;
        if (Field("email") is { } rawEmail)
        {
            email = NormaliseEmail(rawEmail);
            if (email is null)
            {
                warnings.Add(new ImportNote(line, $"email '{rawEmail}' is not an email address; ignored"));
            }
        }

        ParsedPhone? phone = null;
        if (Field("phone") is { } rawPhone)
        {
            var region = Field("region");
            if (region is not null && !PhoneNumberParser.IsRegion(region))
            {
                warnings.Add(new ImportNote(line, $"region '{region}' is not an ISO 3166-1 region; the domain's is used"));
                region = null;
            }

            if (!PhoneNumberParser.TryParse(rawPhone, region ?? PhoneNumberParser.RegionOfDomain(domain), out phone, out var problem))
            {
                warnings.Add(new ImportNote(line, $"phone '{rawPhone}' {problem}; ignored"));
            }
        }

        if (email is null && phone is null)
        {
            skipped.Add(new ImportNote(line, "has no usable email or phone"));
            return null;
        }

        var person = named ? $"name:{MatchKeys.Name(firstName!)}|{MatchKeys.Name(lastName!)}|{domain}" : $"linkedin:{linkedInKey}";
        return new DirectoryContact
        {
            // A person may have several addresses, one row each; a row without an address is the
            // person's number, so a new number in the next export replaces the old one.
            ContactKey = email is not null ? $"{person}|email:{email}" : $"{person}|phone",
            LinkedinKey = linkedInKey,
            FirstKey = named ? MatchKeys.Name(firstName!) : null,
            LastKey = named ? MatchKeys.Name(lastName!) : null,
            Domain = domain,
            Firstname = firstName,
            Lastname = lastName,
            CompanyName = Field("company_name"),
            LinkedinUrl = linkedIn,
            Email = email,
            PhoneE164 = phone?.E164,
            PhoneRegion = phone?.Region,
            SourceFile = fileName,
            SourceLine = line,
        };
    }

    private static string? NormaliseEmail(string raw)
    {
        var value = raw.Trim().ToLowerInvariant();
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1 || value.IndexOf('@') != at || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or ','))
        {
            return null;
        }

        return DomainName.TryNormalise(value[(at + 1)..], out var domain, out _) && value[(at + 1)..] == domain ? value : null;
    }
}

public sealed class DirectoryImportException(string message) : Exception(message);
