using PeopleEnrich.Answers;

namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>What a source is told besides the person: what earlier sources found, and how often the item was put off.</summary>
public sealed record SourceContext(IReadOnlyList<EmailEvidence> EmailsSoFar, int Deferrals)
{
    public static SourceContext Empty { get; } = new([], 0);
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
    /// The source could not look this time (an upstream that is down), which is not the item's failure:
    /// the waterfall goes on, but the answer is not kept in the results cache, where the gap would last.
    /// </summary>
    public static SourceFindings Unanswered { get; } = new([], []) { Answered = false };

    public bool Answered { get; init; } = true;
}
