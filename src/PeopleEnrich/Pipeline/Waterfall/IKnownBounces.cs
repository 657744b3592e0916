using PeopleEnrich.Answers;

namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>
/// Addresses callers reported to bounce (bounce feedback), whichever source gives them: the waterfall adds their bounce to
/// what the sources saw, so that no answer, for any account, returns a bounced address as DELIVERABLE or HIGH_PROBABILITY.
/// </summary>
public interface IKnownBounces
{
    /// <summary>A reported bounce (<see cref="EmailEvidence.Bounced"/>) for each of these addresses that bounced; none for the others.</summary>
    Task<IReadOnlyList<EmailEvidence>> AmongAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken);
}

/// <summary>Where bounce feedback is not set up (a waterfall built by hand): nothing bounced.</summary>
public sealed class NoKnownBounces : IKnownBounces
{
    public static NoKnownBounces Instance { get; } = new();

    public Task<IReadOnlyList<EmailEvidence>> AmongAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<EmailEvidence>>([]);
}
