using PeopleEnrich.Privacy;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>What the finder holds of addresses in memory: the verdicts its lanes heard, and the recipients planted at greylisting domains.</summary>
public sealed class FinderMemory(DomainSessions sessions, GreylistSchedules greylisting) : IRemembersAddresses
{
    public void Forget(IReadOnlyCollection<string> addresses)
    {
        sessions.Forget(addresses);
        greylisting.Forget(addresses);
    }
}
