using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// The finder's way through one person's recipients (the addresses listed for them, then the candidates
/// in order of likelihood): it stops at the first accepted address where acceptance means a mailbox, and
/// once an address in some shape was accepted at the domain (anyone's, in the lane), the person's
/// candidate in that shape is asked first and waited on, since it is most likely the answer.
/// </summary>
internal sealed class CandidateWalk(IReadOnlyList<Recipient> recipients, bool probed) : IRecipientWalk
{
    private readonly HashSet<Recipient> _asked = [];
    private bool _shapeInFlight;

    public bool IsDone { get; private set; }

    public Recipient? Peek(LaneView lane)
    {
        // A catch-all domain's server says nothing of any one recipient: its probe said all there is to say.
        if (IsDone || _shapeInFlight || (probed && lane.Probe == RcptOutcome.Accepted))
        {
            return null;
        }

        var shape = AcceptedShape(lane);
        return recipients.FirstOrDefault(r => shape is not null && r.Tag == shape && !_asked.Contains(r))
            ?? recipients.FirstOrDefault(r => !_asked.Contains(r));
    }

    public void Asking(Recipient recipient, LaneView lane)
    {
        _asked.Add(recipient);
        _shapeInFlight = recipient.Tag is not null && recipient.Tag == AcceptedShape(lane);
    }

    public void Answered(Recipient recipient, RcptObservation observation, LaneView lane)
    {
        _shapeInFlight = false;
        // Found: the rest of this person's candidates would only cost the server.
        IsDone = observation.Outcome == RcptOutcome.Accepted && AcceptanceIsMeaningful(lane);
    }

    /// <summary>An accepted recipient says "this mailbox exists" only where a made-up one was rejected (or is known to be).</summary>
    private bool AcceptanceIsMeaningful(LaneView lane) => !probed || lane.Probe == RcptOutcome.Rejected;

    /// <summary>The shape of the last address found at the domain (listed addresses have none).</summary>
    private static string? AcceptedShape(LaneView lane) => lane.LastFoundTag;
}
