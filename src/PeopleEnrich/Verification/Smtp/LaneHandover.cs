namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// What a lane heard of its parties' tags (the finder's: address shapes) while it held its domain: the tag of the last
/// acceptance that ended a party's walk, and per tag how many parties' walks ended on an acceptance, and how many
/// parties had a recipient rejected. Tags and counts only: no address.
/// </summary>
public sealed record LaneTags(string? LastFoundTag, IReadOnlyDictionary<string, int> FoundByTag, IReadOnlyDictionary<string, int> RejectedByTag)
{
    public bool IsEmpty => LastFoundTag is null && FoundByTag.Count == 0 && RejectedByTag.Count == 0;
}

/// <summary>
/// A domain has one lane in the cluster: another process's people of the domain wait for it. What the lane heard of its
/// people (<see cref="LaneTags"/>) is handed over when it ends to the lane that waited, in another process, so that
/// those people go on from it as they would have, had they joined the lane in its own process; and not otherwise, so
/// that one process alone behaves as without the database.
/// </summary>
public interface ILaneHandover
{
    /// <summary>Before the lane's claim of the domain is released: what it heard, for a lane of another process waiting for it.</summary>
    Task HandOverAsync(string domain, LaneTags tags, CancellationToken cancellationToken);

    /// <summary>
    /// Once a lane that waited for the domain has it: what another process's lane handed over since
    /// <paramref name="waitingSince"/> (when this lane's first party arrived); null when nothing was.
    /// </summary>
    Task<LaneTags?> TakeOverAsync(string domain, DateTimeOffset waitingSince, CancellationToken cancellationToken);
}
