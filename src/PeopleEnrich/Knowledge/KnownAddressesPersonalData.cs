using Dapper;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Knowledge;

/// <summary>Addresses seen at a domain (the evidence its pattern is learned from): a person's own addresses are theirs to erase.</summary>
public sealed class KnownAddressesPersonalData(Database database) : IPersonalData
{
    public string What => "addresses in domain knowledge";

    public Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken) => Task.FromResult(ErasureSubject.None);

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var erased = 0;
            foreach (var email in subject.Emails)
            {
                var at = email.LastIndexOf('@');
                erased += await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM domain_addresses WHERE domain = @domain AND local_part = @local",
                    new { domain = email[(at + 1)..], local = email[..at] }, transaction, cancellationToken: cancellationToken));
            }

            return erased;
        }, cancellationToken);
}
