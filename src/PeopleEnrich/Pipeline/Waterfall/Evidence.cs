namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>Who is being looked for, as stored at submission (domain already normalised).</summary>
public sealed record PersonQuery(string FirstName, string LastName, string Domain, string? CompanyName, string? LinkedInUrl);

/// <summary>What a source saw of an address. Sources report observations; only <see cref="Verdict"/> decides statuses.</summary>
public enum EmailObservation
{
    /// <summary>A source lists the address (the directory, a page) as this person's.</summary>
    Listed,

    /// <summary>The domain's mail server accepted the recipient, and rejects made-up ones.</summary>
    MailboxAccepted,

    /// <summary>The domain's mail server said there is no such mailbox.</summary>
    MailboxRejected,

    /// <summary>The domain accepts every recipient (catch-all): its server said nothing of this one.</summary>
    AcceptedByCatchAll,

    /// <summary>The address follows the domain's pattern, learned from independent addresses (or the directory).</summary>
    FollowsLearnedPattern,

    /// <summary>An upstream provider reported it DELIVERABLE: its verdict, not a reply we saw.</summary>
    UpstreamDeliverable,

    /// <summary>An upstream provider reported it HIGH_PROBABILITY.</summary>
    UpstreamHighProbability,

    /// <summary>An upstream provider reported it CATCH_ALL: a catch-all domain, the address a guess.</summary>
    UpstreamCatchAll,

    /// <summary>An upstream provider reported it INVALID.</summary>
    UpstreamInvalid,
}

public sealed record EmailEvidence(string Address, string Source, EmailObservation Observation);

public sealed record PhoneEvidence(string E164, string Region, string Source);

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
