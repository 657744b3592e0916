using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Directory;

/// <summary>The operator's own known contacts (imported with 'directory import').</summary>
public sealed class DirectorySource(DirectoryStore store) : IEnrichmentSource
{
    public string Name => "directory";

    public EnrichFields Provides => EnrichFields.Emails | EnrichFields.Phones;

    public async Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
    {
        var contacts = await store.FindAsync(
            MatchKeys.LinkedIn(person.LinkedInUrl), MatchKeys.Name(person.FirstName), MatchKeys.Name(person.LastName), person.Domain, cancellationToken);
        var emails = wanted.HasFlag(EnrichFields.Emails)
            ? contacts.Where(c => c.Email is not null).Select(c => new EmailEvidence(c.Email!, Name, EmailObservation.Listed) { Provenance = Where(c) }).ToList()
            : [];
        var phones = wanted.HasFlag(EnrichFields.Phones)
            ? contacts.Where(c => c.PhoneE164 is not null).Select(c => new PhoneEvidence(c.PhoneE164!, c.PhoneRegion!, Name) { Provenance = Where(c) }).ToList()
            : [];
        return new SourceFindings(emails, phones);
    }

    /// <summary>The file and line the contact was imported from (contacts imported before files were kept name none).</summary>
    private static DirectoryProvenance Where(DirectoryContact contact) =>
        new(DateTimeOffset.FromUnixTimeMilliseconds(contact.UpdatedAt), contact.SourceFile ?? DirectoryImporter.UnnamedFile, (int)(contact.SourceLine ?? 0));
}
