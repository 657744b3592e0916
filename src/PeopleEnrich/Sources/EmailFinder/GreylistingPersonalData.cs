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

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        database.DeleteWhereAnyAsync("greylist_planted", "address", [.. subject.Emails.Select(e => e.ToLowerInvariant())], cancellationToken);
}
