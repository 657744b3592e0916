using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>What the domain's addresses were seen to look like before this walk began: each shape (a candidate's tag) with its independent addresses, best supported first.</summary>
internal sealed record KnownShapes(IReadOnlyList<(string Tag, int Addresses)> Shapes)
{
    public static KnownShapes None { get; } = new([]);

    public int AddressesIn(string tag) => Shapes.FirstOrDefault(s => s.Tag == tag).Addresses;
}

/// <param name="EstablishedBy">Independent addresses in one shape that make it the domain's established pattern.</param>
/// <param name="Alternatives">Candidates asked, once the pattern is established, besides the person's candidate in it.</param>
/// <param name="Greylisted">The server greylisted this person's recipients before (this is a retry): while the probe, planted with them, is still deferred, they are too.</param>
internal sealed record WalkRules(int EstablishedBy, int Alternatives, bool Greylisted = false)
{
    public static WalkRules Unbounded { get; } = new(int.MaxValue, int.MaxValue);
}

/// <summary>
/// The finder's way through one person's recipients (the addresses listed for them, then the candidates
/// in order of likelihood): it stops at the first accepted address where acceptance means a mailbox, and
/// once an address in some shape was accepted at the domain (anyone's, in the lane), the person's
/// candidate in that shape is asked first and waited on, since it is most likely the answer.
/// </summary>
/// <remarks>
/// Once the domain's pattern is established (<see cref="WalkRules.EstablishedBy"/> independent addresses in one shape,
/// known before or found in this lane), a person whose candidate in it is rejected is asked only
/// <see cref="WalkRules.Alternatives"/> more: the domain's other shapes (its exceptions) first, then the likeliest
/// others. Each rejected recipient costs us with the server; a person without a mailbox would otherwise cost them all.
/// On a greylisting server (the probe deferred) only the likeliest candidate is planted; the retry asks nothing while
/// the probe, planted with it, is still deferred.
/// </remarks>
internal sealed class CandidateWalk(IReadOnlyList<Recipient> recipients, bool probed, KnownShapes known, WalkRules rules) : IRecipientWalk
{
    private readonly HashSet<Recipient> _asked = [];
    private bool _shapeInFlight;
    private bool _likeliestDeferred;

    public CandidateWalk(IReadOnlyList<Recipient> recipients, bool probed)
        : this(recipients, probed, KnownShapes.None, WalkRules.Unbounded)
    {
    }

    public bool IsDone { get; private set; }

    public Recipient? Peek(LaneView lane)
    {
        // A catch-all domain's server says nothing of any one recipient: its probe said all there is to say.
        if (IsDone || _shapeInFlight || (probed && lane.Probe == RcptOutcome.Accepted))
        {
            return null;
        }

        if (_likeliestDeferred || (probed && lane.Probe == RcptOutcome.Temporary && (rules.Greylisted || _asked.Any(r => r.Tag is not null))))
        {
            // Greylisted: the likeliest candidate is planted, the rest waits for what its answer teaches.
            return null;
        }

        var established = Established(lane);
        var next = Ordered(lane, established).FirstOrDefault(r => !_asked.Contains(r));
        if (next?.Tag is null || established is null || next.Tag == established)
        {
            return next;
        }

        return _asked.Count(r => r.Tag is not null && r.Tag != established) < rules.Alternatives ? next : null;
    }

    public void Asking(Recipient recipient, LaneView lane)
    {
        _asked.Add(recipient);
        _shapeInFlight = recipient.Tag is not null && recipient.Tag == (Established(lane) ?? lane.LastFoundTag);
    }

    public void Answered(Recipient recipient, RcptObservation observation, LaneView lane)
    {
        _shapeInFlight = false;
        _likeliestDeferred |= observation.Outcome == RcptOutcome.Temporary && recipient.Tag is not null && _asked.Count(r => r.Tag is not null) == 1;
        // Found: the rest of this person's candidates would only cost the server.
        IsDone = observation.Outcome == RcptOutcome.Accepted && AcceptanceIsMeaningful(lane);
    }

    /// <summary>An accepted recipient says "this mailbox exists" only where a made-up one was rejected (or is known to be).</summary>
    private bool AcceptanceIsMeaningful(LaneView lane) => !probed || lane.Probe == RcptOutcome.Rejected;

    /// <summary>How many independent addresses show this shape: what was known, or what this lane found, whichever is more (they overlap).</summary>
    private int Support(string tag, LaneView lane) => Math.Max(known.AddressesIn(tag), lane.FoundByTag.GetValueOrDefault(tag));

    /// <summary>The shape enough independent addresses were seen in; null while none is.</summary>
    private string? Established(LaneView lane) =>
        known.Shapes.Select(s => s.Tag).Concat(lane.FoundByTag.Keys)
            .Select(tag => (Tag: tag, Support: Support(tag, lane)))
            .Where(s => s.Support >= rules.EstablishedBy)
            .OrderByDescending(s => s.Support)
            .Select(s => s.Tag)
            .FirstOrDefault();

    /// <summary>
    /// Listed addresses first; then the established shape (or else the one last found in the lane); then the domain's
    /// other shapes seen, best supported first; then the rest in order of likelihood.
    /// </summary>
    private IEnumerable<Recipient> Ordered(LaneView lane, string? established)
    {
        var first = established ?? lane.LastFoundTag;
        var seen = known.Shapes.Select(s => s.Tag).Concat(lane.FoundByTag.Keys).Where(tag => tag != first).Distinct()
            .OrderByDescending(tag => Support(tag, lane)).ToList();
        return recipients.OrderBy(r => r.Tag is null ? 0 : r.Tag == first ? 1 : seen.IndexOf(r.Tag) is var at and >= 0 ? 2 + at : 2 + seen.Count);
    }
}
