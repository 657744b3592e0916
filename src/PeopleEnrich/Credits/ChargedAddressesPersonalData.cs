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

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        database.DeleteWhereAnyAsync("charged_addresses", "address_hash", [.. subject.Emails.Select(BounceRefunds.HashOf)], cancellationToken);
}
