using Dapper;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Credits;

/// <summary>
/// The charged addresses a bounce would refund, as personal data: only hashes, but a hash of an address still points at its
/// person. An erased person's charges are no longer refundable as bounces (their ledger entries stay, naming no one).
/// </summary>
public sealed class ChargedAddressesPersonalData(Database database) : IPersonalData
{
    public string What => "charged addresses (hashed)";

    public Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken) => Task.FromResult(ErasureSubject.None);

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var hashes = subject.Emails.Select(BounceRefunds.HashOf).ToArray();
        return hashes.Length == 0
            ? Task.FromResult(0)
            : database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM charged_addresses WHERE address_hash {database.InAny("hashes")}", new { hashes }, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }
}
