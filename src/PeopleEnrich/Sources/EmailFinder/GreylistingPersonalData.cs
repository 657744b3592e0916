using Dapper;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// Recipients planted at greylisting domains (<c>greylist_planted</c>, shared by the processes): a person's addresses are
/// theirs to erase. Their other candidates there are guesses from their name that no one confirmed; they go within
/// <see cref="GreylistSchedules.KeptFor"/> (an hour by default) with the rest.
/// </summary>
public sealed class GreylistingPersonalData(Database database) : IPersonalData
{
    public string What => "addresses planted at greylisting domains";

    public Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken) => Task.FromResult(ErasureSubject.None);

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var addresses = subject.Emails.Select(e => e.ToLowerInvariant()).ToArray();
        return addresses.Length == 0
            ? Task.FromResult(0)
            : database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM greylist_planted WHERE address {database.InAny("addresses")}", new { addresses }, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }
}
