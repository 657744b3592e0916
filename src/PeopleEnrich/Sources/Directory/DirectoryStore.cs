using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Sources.Directory;

public enum UpsertOutcome { Imported, Updated, Unchanged }

public sealed class DirectoryStore(Database database, TimeProvider time)
{
    private const string Columns =
        "contact_key, linkedin_key, first_key, last_key, domain, firstname, lastname, company_name, linkedin_url, email, phone_e164, phone_region, source_file, source_line";

    /// <summary>Stores the contacts in one transaction and says, per contact, what changed.</summary>
    public Task<IReadOnlyList<UpsertOutcome>> UpsertAsync(IReadOnlyList<DirectoryContact> contacts, CancellationToken cancellationToken) =>
        database.InTransactionAsync<IReadOnlyList<UpsertOutcome>>(async (connection, transaction) =>
        {
            var outcomes = new List<UpsertOutcome>(contacts.Count);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var contact in contacts)
            {
                var existing = await connection.QuerySingleOrDefaultAsync<DirectoryContact>(new CommandDefinition(
                    $"SELECT {Columns}, updated_at FROM directory_contacts WHERE contact_key = @ContactKey", contact, transaction, cancellationToken: cancellationToken));
                if (existing is not null && existing.SameAs(contact))
                {
                    if ((existing.SourceFile, existing.SourceLine) != (contact.SourceFile, contact.SourceLine))
                    {
                        // The same data from another file or line: what it gives is unchanged, only where it is now written.
                        await connection.ExecuteAsync(new CommandDefinition(
                            "UPDATE directory_contacts SET source_file = @SourceFile, source_line = @SourceLine WHERE contact_key = @ContactKey",
                            contact, transaction, cancellationToken: cancellationToken));
                    }

                    outcomes.Add(UpsertOutcome.Unchanged);
                    continue;
                }

                var sql = existing is null
                    ? $"INSERT INTO directory_contacts ({Columns}, updated_at) VALUES (@ContactKey, @LinkedinKey, @FirstKey, @LastKey, @Domain, @Firstname, @Lastname, @CompanyName, @LinkedinUrl, @Email, @PhoneE164, @PhoneRegion, @SourceFile, @SourceLine, @now)"
                    : """
                      UPDATE directory_contacts SET linkedin_key = @LinkedinKey, first_key = @FirstKey, last_key = @LastKey, domain = @Domain,
                          firstname = @Firstname, lastname = @Lastname, company_name = @CompanyName, linkedin_url = @LinkedinUrl,
                          email = @Email, phone_e164 = @PhoneE164, phone_region = @PhoneRegion, source_file = @SourceFile, source_line = @SourceLine, updated_at = @now
                      WHERE contact_key = @ContactKey
                      """;
                var parameters = new DynamicParameters(contact);
                parameters.Add("now", now);
                await connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));
                outcomes.Add(existing is null ? UpsertOutcome.Imported : UpsertOutcome.Updated);
            }

            return outcomes;
        }, cancellationToken);

    /// <summary>By LinkedIn profile first; failing that, by name at the domain.</summary>
    public async Task<IReadOnlyList<DirectoryContact>> FindAsync(string? linkedinKey, string firstKey, string lastKey, string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (linkedinKey is not null)
        {
            var byProfile = (await connection.QueryAsync<DirectoryContact>(new CommandDefinition(
                $"SELECT {Columns}, updated_at FROM directory_contacts WHERE linkedin_key = @linkedinKey ORDER BY contact_key",
                new { linkedinKey }, cancellationToken: cancellationToken))).ToList();
            if (byProfile.Count > 0)
            {
                return byProfile;
            }
        }

        return (await connection.QueryAsync<DirectoryContact>(new CommandDefinition(
            $"SELECT {Columns}, updated_at FROM directory_contacts WHERE domain = @domain AND first_key = @firstKey AND last_key = @lastKey ORDER BY contact_key",
            new { domain, firstKey, lastKey }, cancellationToken: cancellationToken))).ToList();
    }
}
