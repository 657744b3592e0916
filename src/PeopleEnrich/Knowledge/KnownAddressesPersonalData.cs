using Dapper;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Knowledge;

/// <summary>
/// Addresses seen at a domain (the evidence its pattern is learned from) and those reported to bounce: a person's own addresses
/// are theirs to erase (an erased person is suppressed, so a forgotten bounce brings nothing back).
/// </summary>
public sealed class KnownAddressesPersonalData(Database database) : IPersonalData
{
    public string What => "addresses in domain knowledge";

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var erased = 0;
            foreach (var email in subject.Emails)
            {
                var at = email.LastIndexOf('@');
                foreach (var table in new[] { "domain_addresses", "bounced_addresses" })
                {
                    erased += await connection.ExecuteAsync(new CommandDefinition(
                        $"DELETE FROM {table} WHERE domain = @domain AND local_part = @local",
                        new { domain = email[(at + 1)..], local = email[..at] }, transaction, cancellationToken: cancellationToken));
                }
            }

            return erased;
        }, cancellationToken);
}
