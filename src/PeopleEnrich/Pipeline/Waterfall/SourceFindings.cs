using PeopleEnrich.Answers;

namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>What a source is told besides the person: what earlier sources found, and how often the item was put off.</summary>
public sealed record SourceContext(IReadOnlyList<EmailEvidence> EmailsSoFar, int Deferrals)
{
    public static SourceContext Empty { get; } = new([], 0);

    /// <summary>
    /// The item is being asked again because something could not be checked before (an outage's retry, or a failed
    /// attempt's): a source that remembers an outage met for someone else answers the others with it at once, but checks
    /// again for this item, whose retry is the one that was promised.
    /// </summary>
    public bool AskingAgain { get; init; }
}

/// <summary>
/// Thrown by a source that cannot answer yet but will be able to (a greylisting mail server): the item
/// goes back on the queue until <see cref="RetryAfter"/>, without holding a worker and without counting as a failure.
/// </summary>
public sealed class SourceDeferredException(TimeSpan retryAfter, string reason) : Exception(reason)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>Everything one source saw for one person.</summary>
public sealed record SourceFindings(IReadOnlyList<EmailEvidence> Emails, IReadOnlyList<PhoneEvidence> Phones)
{
    public static SourceFindings Nothing { get; } = new([], []);

    /// <summary>
    /// The source could not check something (DNS or a server that did not answer, a refusal of us), said in plain
    /// words for the person who asked ("the mail servers of acme.com did not answer"): never to be shown as
    /// "nothing found". <paramref name="retryable"/> when asking again soon may help (an outage may pass; a
    /// refusal of us will not). Never kept in the results cache, where the gap would last; the waterfall puts the item off and
    /// asks again, and in the end says it in the answer's error. Findings made before the gap may go with it.
    /// </summary>
    public static SourceFindings CouldNotCheck(string what, bool retryable = true) => Nothing.Lacking(new SourceGap(what, retryable));

    public bool Answered { get; init; } = true;

    /// <summary>What the source could not check; null when it looked.</summary>
    public SourceGap? Gap { get; init; }

    /// <summary>
    /// The source already applied the reported bounces (<see cref="IKnownBounces"/>) to these emails, read for this item:
    /// the waterfall does not look them up a second time.
    /// </summary>
    public bool BouncesChecked { get; init; }

    /// <summary>These findings, and what could not be checked besides (a walk through candidates cut short by an outage).</summary>
    public SourceFindings Lacking(SourceGap gap) => this with { Answered = false, Gap = gap };
}

/// <summary>What a source could not check, in plain words, and whether asking again soon may help.</summary>
public sealed record SourceGap(string What, bool Retryable);
