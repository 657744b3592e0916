namespace PeopleEnrich.Answers;

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

    /// <summary>The single best guess of the common patterns, on a catch-all domain: nothing at the domain backs it.</summary>
    FollowsCommonPattern,

    /// <summary>A caller reported that mail to the address bounced (bounce feedback): INVALID whatever else was seen.</summary>
    ReportedBounced,

    /// <summary>
    /// The domain's mail server, which rejects made-up recipients, said the mailbox is full (552, 5.2.2, 4.2.2): it exists,
    /// but mail to it would not be delivered now. UNKNOWN: neither DELIVERABLE (it was not accepted) nor INVALID (it exists).
    /// </summary>
    MailboxFull,
}

/// <summary>One observation of an address by a source, with what identifies it (for "why this address?").</summary>
public sealed record EmailEvidence(string Address, string Source, EmailObservation Observation)
{
    /// <summary>The source name of what callers reported (POST /api/v2/people/bounces).</summary>
    public const string BounceFeedback = "bounce-feedback";

    /// <summary>A reported bounce of <paramref name="address"/>: when it bounced, and the reply's codes when the caller gave them.</summary>
    public static EmailEvidence Bounced(string address, DateTimeOffset bouncedAt, string? reply) =>
        new(address.ToLowerInvariant(), BounceFeedback, EmailObservation.ReportedBounced) { Provenance = new BounceProvenance(bouncedAt, reply) };

    /// <summary>Where exactly it was seen: the reply of which server, which page, which file and line…</summary>
    public Provenance? Provenance { get; init; }
}

/// <summary>A number a source gives for the person, with where exactly it was seen.</summary>
public sealed record PhoneEvidence(string E164, string Region, string Source)
{
    public Provenance? Provenance { get; init; }
}
