using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>What the domain's addresses were seen to look like before this walk began: each shape (a candidate's tag) with its independent addresses, best supported first.</summary>
internal sealed record KnownShapes(IReadOnlyList<(string Tag, int Addresses)> Shapes)
{
    public static KnownShapes None { get; } = new([]);

    public int AddressesIn(string tag) => Shapes.FirstOrDefault(s => s.Tag == tag).Addresses;
}

/// <param name="EstablishedBy">Independent addresses in one shape that make it the domain's established pattern.</param>
/// <param name="Alternatives">Once the pattern is established and the person's candidate in it rejected: how many of the domain's exception shapes are asked.</param>
/// <param name="Guesses">And then how many candidates in shapes never seen at the domain.</param>
/// <param name="Greylisted">The server greylisted this person's recipients before (this is a retry): while the probe, planted with them, is still deferred, they are too.</param>
/// <param name="WaitForRound">
/// Back at a greylisting server in the round its delay has just passed: the people planted with this one are being answered
/// now, and what they teach (an established pattern) decides how many more of this person's candidates are worth planting.
/// So a person whose planted candidate is rejected while no pattern is established plants nothing more now, and comes back
/// after the schedule's first step (<see cref="CandidateWalk.WaitsForRound"/>).
/// </param>
internal sealed record WalkRules(int EstablishedBy, int Alternatives, int Guesses, bool Greylisted = false, bool WaitForRound = false)
{
    public static WalkRules Unbounded { get; } = new(int.MaxValue, int.MaxValue, int.MaxValue);

    /// <summary>Before the pattern is established, once an address was seen in some shape: how many more a person rejected in that shape is asked.</summary>
    public int GuessesWhenSeenOnce { get; init; } = int.MaxValue;

    /// <summary>
    /// <see cref="GuessesWhenSeenOnce"/>, halved back at a greylisting server: there each guess costs two RCPTs (planted, then
    /// asked again) and a round of the domain's delay, for the same small chance of finding an address outside the shape seen.
    /// </summary>
    public int SeenOnceGuesses => Greylisted ? GuessesWhenSeenOnce / 2 : GuessesWhenSeenOnce;

    /// <summary>
    /// How many candidates the person plants this round: recipients the server defers now (each costs a second RCPT when
    /// asked again). The rest waits for what the round's answers teach.
    /// </summary>
    public int PlantsPerRound { get; init; } = int.MaxValue;

    /// <summary>
    /// Plants allowed in a person's round: <paramref name="perRound"/> (<c>Smtp:GreylistPlantsPerRound</c>), except in the last
    /// round before the retries run out (<c>Smtp:MaxGreylistRetries</c>), which plants whatever is left, so that no candidate is
    /// left unchecked for want of a round to ask it in, and in the session after it, which asks again what that round planted:
    /// a walk counts every deferral as a planting, so one of those still deferred would keep the rest from being asked.
    /// </summary>
    public static int PlantsInRound(int deferrals, int maxRetries, int perRound) => deferrals >= maxRetries - 1 ? int.MaxValue : perRound;
}

/// <summary>
/// The finder's way through one person's recipients (the addresses listed for them, then the candidates
/// in order of likelihood): it stops at the first accepted address where acceptance means a mailbox, and
/// once an address in some shape was accepted at the domain (anyone's, in the lane), the person's
/// candidate in that shape is asked first and waited on, since it is most likely the answer.
/// </summary>
/// <remarks>
/// Once the domain's pattern is established (<see cref="WalkRules.EstablishedBy"/> independent addresses in one shape,
/// known before or found in this lane), a person whose candidate in it is rejected is asked only a few more: up to
/// <see cref="WalkRules.Alternatives"/> in the domain's other shapes (its exceptions, best supported first), then up to
/// <see cref="WalkRules.Guesses"/> of the likeliest others. Each rejected recipient costs us with the server; a person
/// without a mailbox would otherwise cost them all.
/// On a greylisting server (the probe deferred) only the likeliest candidate is planted; the retry asks nothing while
/// the probe, planted with it, is still deferred. Once it has passed, a person plants at most
/// <see cref="WalkRules.PlantsPerRound"/> new candidates a round, and while the domain's shape is unknown the round's people
/// spread their plantings over the likeliest shapes (<paramref name="plantings"/>): one acceptance then shows everyone the shape.
/// </remarks>
/// <param name="plantedBefore">
/// The person's candidates the server deferred in an earlier round (planted): back at a greylisting server they are asked
/// again before anything new is planted, since asking one now costs one RCPT (its deferral is paid for) and a new one two.
/// </param>
internal sealed class CandidateWalk(
    IReadOnlyList<Recipient> recipients, bool probed, KnownShapes known, WalkRules rules, IReadOnlyDictionary<string, double>? priors = null,
    PlantingRound? plantings = null, IReadOnlySet<string>? plantedBefore = null)
    : IRecipientWalk
{
    /// <summary>
    /// The share of people asked about at a company who have a mailbox there (a list of contacts is never quite up to date):
    /// each person rejected in a shape leaves that shape a quarter as likely to be the domain's, since the rejection is as
    /// well explained by a person without a mailbox. (The measurement world has the same share; other values were not
    /// measured. Where every person has a mailbox a rejection always means a wrong shape, and this order costs RCPTs.)
    /// </summary>
    internal const double MailboxShare = 0.75;

    private readonly IReadOnlyDictionary<string, double> _priors = priors
        ?? recipients.Select((r, at) => (r.Address, Prior: 1.0 / (2 + at))).DistinctBy(r => r.Address).ToDictionary(r => r.Address, r => r.Prior);
    private readonly HashSet<Recipient> _asked = [];
    private readonly HashSet<Recipient> _unanswered = [];
    private bool _shapeInFlight;
    private bool _likeliestDeferred;
    private bool _existsBeforeProbe;
    private int _plantedNow;

    public CandidateWalk(IReadOnlyList<Recipient> recipients, bool probed)
        : this(recipients, probed, KnownShapes.None, WalkRules.Unbounded)
    {
    }

    public bool IsDone { get; private set; }

    /// <summary>
    /// Back at a greylisting server whose delay has just passed (<see cref="WalkRules.WaitForRound"/>), the planted candidate
    /// was rejected and no pattern is established yet: nothing more is planted now, and the person comes back after the
    /// schedule's first step, when the rest of the round has been answered.
    /// </summary>
    public bool WaitsForRound { get; private set; }

    /// <summary>
    /// Back at a greylisting server whose probe has passed (in this lane, or, for a person who was not asked it, as the
    /// caller knows), the candidate planted last time is still deferred: it was
    /// planted a little after the probe (people of a batch reach the lane one after another), and will pass a little after it.
    /// </summary>
    public bool PlantedLateStillDeferred { get; private set; }

    public Recipient? Peek(LaneView lane)
    {
        // A catch-all domain's server says nothing of any one recipient, nor does one whose probe got no verdict (neither
        // accepted nor rejected, nor deferred): its probe said all there is to say, and no candidate's answer could count.
        if (IsDone || _shapeInFlight || WaitsForRound || (probed && lane.Probe is not (null or RcptOutcome.Rejected or RcptOutcome.Temporary)) || LikeliestInFlight(lane))
        {
            return null;
        }

        if (_likeliestDeferred || (probed && lane.Probe == RcptOutcome.Temporary && (rules.Greylisted || _asked.Any(r => r.Tag is not null))))
        {
            // Greylisted: the likeliest candidate is planted, the rest waits for what its answer teaches.
            return null;
        }

        if (_plantedNow + (rules.Greylisted ? _unanswered.Count : 0) >= rules.PlantsPerRound)
        {
            // This round's plantings are made (one still being asked may become one): the rest waits for what they teach.
            return null;
        }

        var established = Established(lane);
        var unasked = Ordered(lane, established).Where(r => !_asked.Contains(r));
        if (established is null)
        {
            // A shape seen once, and this person's candidate in it rejected: only the likeliest few more.
            var seen = Likeliest(lane, null);
            var rejectedInSeen = seen is not null && _asked.Any(r => r.Tag == seen);
            return rejectedInSeen && _asked.Count(r => r.Tag is not null && r.Tag != seen) >= rules.SeenOnceGuesses
                ? unasked.FirstOrDefault(r => r.Tag is null)
                : Choose(unasked, lane);
        }

        // Established: the person's address in the pattern, then a few of the domain's exception shapes, then (as many as allowed) guesses.
        var exceptions = SeenShapes(lane, except: established);
        var exceptionsAsked = _asked.Count(r => r.Tag is not null && exceptions.Contains(r.Tag));
        var guessesAsked = _asked.Count(r => r.Tag is not null && r.Tag != established && !exceptions.Contains(r.Tag));
        return Choose(unasked.Where(r =>
            r.Tag is null || r.Tag == established
            || (exceptions.Contains(r.Tag) ? exceptionsAsked < rules.Alternatives : guessesAsked < rules.Guesses)), lane);
    }

    /// <summary>
    /// The first of the allowed recipients, except back at a greylisting server whose shape nothing has shown yet: there a
    /// shape others of the domain planted this round counts as rejected once more (its answer comes next round anyway, and
    /// a second planting in it teaches little more), so the round's people spread over the likeliest shapes instead of all
    /// planting the same one. A person whose likeliest candidate is as likely as the one someone planted plants another shape.
    /// </summary>
    private Recipient? Choose(IEnumerable<Recipient> allowed, LaneView lane)
    {
        if (plantings is null || !rules.Greylisted || Likeliest(lane, Established(lane)) is not null)
        {
            return allowed.FirstOrDefault();
        }

        var choices = allowed.ToList();
        return choices.FirstOrDefault(r => r.Tag is null || IsPlanted(r))
            ?? choices.MaxBy(r => Likelihood(r, lane) * Math.Pow(1 - MailboxShare, plantings.Count(r.Tag!)));
    }

    public void Asking(Recipient recipient, LaneView lane)
    {
        _asked.Add(recipient);
        _unanswered.Add(recipient);
        // The likeliest shape is waited on before the next is asked; so is, back at a greylisting server, the candidate planted last time.
        _shapeInFlight = recipient.Tag is not null
            && (recipient.Tag == Likeliest(lane, Established(lane)) || (rules.Greylisted && _asked.Count(r => r.Tag is not null) == 1));
    }

    public void Answered(Recipient recipient, RcptObservation observation, LaneView lane)
    {
        if (observation.Outcome == RcptOutcome.Temporary && recipient.Tag is { } planted)
        {
            _plantedNow++;
            plantings?.Planted(planted);
        }

        // Greylisted where the answer was most likely (the first candidate, or the one in the shape found at the domain):
        // it is planted, and what else to ask waits for its answer in the next round.
        var first = _asked.Count(r => r.Tag is not null) == 1;
        _likeliestDeferred |= observation.Outcome == RcptOutcome.Temporary && recipient.Tag is not null && (_shapeInFlight || first);
        PlantedLateStillDeferred |= observation.Outcome == RcptOutcome.Temporary && recipient.Tag is not null && first
            && rules.Greylisted && (!probed || lane.Probe == RcptOutcome.Rejected);
        WaitsForRound |= rules.WaitForRound && observation.Outcome == RcptOutcome.Rejected && recipient.Tag is not null && first
            && AcceptanceIsMeaningful(lane) && Established(lane) is null;
        _shapeInFlight = false;
        _unanswered.Remove(recipient);
        // Found (a full mailbox is one too), or refused as a relay (the host takes none of the domain's mail from us): the
        // rest of this person's candidates would only cost the server. Kept once set: an answer still in flight changes nothing.
        // A relay refusal heard before the probe's answer (asked in another session) waits for it, which says the same of the
        // domain: a person finished with no probe answered would be said "did not answer".
        var exists = observation.Outcome is RcptOutcome.Accepted or RcptOutcome.MailboxFull;
        IsDone |= (exists && AcceptanceIsMeaningful(lane))
            || (observation.Outcome == RcptOutcome.PolicyRefusal && ReplyInterpreter.DeniesRelaying(observation.Reply) && (!probed || lane.Probe is not null));
        // Accepted before the domain's probe was answered (the lane's opener, asked in the probe's place): it counts once the probe is rejected.
        _existsBeforeProbe |= exists && probed && lane.Probe is null;
    }

    public void ProbeAnswered(LaneView lane) => IsDone |= _existsBeforeProbe && AcceptanceIsMeaningful(lane);

    /// <summary>
    /// How likely this recipient is to be accepted, for the lane to ask the likeliest of all its people's next recipients first:
    /// a listed address, or one in the shape the domain's addresses were seen in, is nearly certain; any other candidate has
    /// its prior, divided by four for each person of the lane already rejected in its shape (<see cref="MailboxShare"/>).
    /// So at a cold domain a second person is asked the likeliest shape before the first walks deep into unlikely ones, and
    /// nobody walks on past a rejection while others have yet to be asked in the shape found.
    /// Back at a greylisting server, a candidate planted in an earlier round ranks above anything new of anyone's: asking it
    /// costs one RCPT (its deferral is paid for) where a new one costs two, and its acceptance may show everyone the shape
    /// before they plant another.
    /// </summary>
    public double Likelihood(Recipient recipient, LaneView lane)
    {
        var paidFor = IsPlanted(recipient) ? 1 : 0;
        if (recipient.Tag is not { } tag || tag == Likeliest(lane, Established(lane)))
        {
            return paidFor + 1;
        }

        return paidFor + _priors.GetValueOrDefault(recipient.Address) * Math.Pow(1 - MailboxShare, lane.RejectedByTag.GetValueOrDefault(tag));
    }

    /// <summary>
    /// The person's candidate in the shape the domain's addresses were found in is asked and not answered yet, though the
    /// shape was found only after it was asked (another person's acceptance came back first): it is most likely the answer,
    /// so the next candidate waits for it rather than spending an RCPT that its acceptance would make useless.
    /// </summary>
    private bool LikeliestInFlight(LaneView lane) =>
        Likeliest(lane, Established(lane)) is { } likeliest && _unanswered.Any(r => r.Tag == likeliest);

    private bool IsPlanted(Recipient recipient) => rules.Greylisted && plantedBefore is not null && plantedBefore.Contains(recipient.Address);

    /// <summary>An accepted recipient says "this mailbox exists" only where a made-up one was rejected (or is known to be).</summary>
    private bool AcceptanceIsMeaningful(LaneView lane) => !probed || lane.Probe == RcptOutcome.Rejected;

    /// <summary>How many independent addresses show this shape: what was known, or what this lane found, whichever is more (they overlap).</summary>
    private int Support(string tag, LaneView lane) => Math.Max(known.AddressesIn(tag), lane.FoundByTag.GetValueOrDefault(tag));

    /// <summary>The shape a person's address most likely has: the established one, else the one last found in the lane, else the best seen at the domain.</summary>
    private string? Likeliest(LaneView lane, string? established) => established ?? lane.LastFoundTag ?? known.Shapes.FirstOrDefault().Tag;

    /// <summary>Every shape an address of the domain was seen in (known, or found in this lane) but this one, best supported first.</summary>
    private List<string> SeenShapes(LaneView lane, string? except) =>
        known.Shapes.Select(s => s.Tag).Concat(lane.FoundByTag.Keys).Where(tag => tag != except).Distinct()
            .OrderByDescending(tag => Support(tag, lane)).ToList();

    /// <summary>The shape enough independent addresses were seen in; null while none is.</summary>
    private string? Established(LaneView lane) =>
        known.Shapes.Select(s => s.Tag).Concat(lane.FoundByTag.Keys)
            .Select(tag => (Tag: tag, Support: Support(tag, lane)))
            .Where(s => s.Support >= rules.EstablishedBy)
            .OrderByDescending(s => s.Support)
            .Select(s => s.Tag)
            .FirstOrDefault();

    /// <summary>
    /// Listed addresses first; back at a greylisting server, the candidates planted in earlier rounds (likeliest first);
    /// then the established shape (or else the one last found in the lane); then the domain's other shapes seen, best
    /// supported first; then the rest in order of likelihood (lowered by the lane's rejections).
    /// </summary>
    private IEnumerable<Recipient> Ordered(LaneView lane, string? established)
    {
        var first = Likeliest(lane, established);
        var seen = SeenShapes(lane, except: first);
        var rest = 3 + seen.Count;
        return recipients
            .Select(r => (Recipient: r, Group: r.Tag is null ? 0 : IsPlanted(r) ? 1 : r.Tag == first ? 2 : seen.IndexOf(r.Tag) is var at and >= 0 ? 3 + at : rest))
            .OrderBy(r => r.Group)
            .ThenByDescending(r => r.Group is 1 || r.Group == rest ? Likelihood(r.Recipient, lane) : 0)
            .Select(r => r.Recipient);
    }
}
