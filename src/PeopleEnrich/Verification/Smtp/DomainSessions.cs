using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PeopleEnrich.Cluster;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>An address to ask about, with the caller's tag for it (the finder's: the pattern it was built in), which this stage never reads.</summary>
public sealed record Recipient(string Address, string? Tag);

/// <summary>What one party's recipients were answered, beside the domain's catch-all probe.</summary>
public sealed record PersonProbeResult(RcptObservation? Probe, IReadOnlyList<RcptObservation> Recipients, SessionFailure? Failure, string? Host)
{
    /// <summary>The recipients the server deferred ("not now": greylisting), the probe's among them.</summary>
    public IEnumerable<RcptObservation> Deferred => Recipients.Append(Probe).OfType<RcptObservation>().Where(r => r.Outcome == RcptOutcome.Temporary);

    /// <summary>Whether the server said "not now" to anything: a recipient, the probe, or the session itself.</summary>
    public bool HeardNotNow => Deferred.Any() || Failure is { Temporary: true, Reply: not null };
}

/// <summary>
/// What a lane has heard so far, for a walk choosing its next recipient: the domain's probe's answer, the
/// tag of the last recipient whose acceptance ended its party's walk (what the domain's addresses look like),
/// and how many parties' walks ended on an acceptance in each tag.
/// </summary>
public sealed record LaneView(RcptOutcome? Probe, string? LastFoundTag, IReadOnlyDictionary<string, int> FoundByTag)
{
    public LaneView(RcptOutcome? probe, string? lastFoundTag) : this(probe, lastFoundTag, new Dictionary<string, int>())
    {
    }

    /// <summary>How many parties had a recipient in each tag rejected (while the lane lives).</summary>
    public IReadOnlyDictionary<string, int> RejectedByTag { get; init; } = new Dictionary<string, int>();
}

/// <summary>
/// Which of one party's recipients to ask, decided answer by answer by whoever is looking (the email
/// finder): this stage opens sessions, asks and reports what the servers said, and knows nothing of
/// who is being looked for or when they are found.
/// </summary>
public interface IRecipientWalk
{
    /// <summary>The recipient to ask next, given what the lane has heard; null when nothing is to be asked now.</summary>
    Recipient? Peek(LaneView lane);

    /// <summary>The lane is asking it now.</summary>
    void Asking(Recipient recipient, LaneView lane);

    /// <summary>Its answer came back.</summary>
    void Answered(Recipient recipient, RcptObservation observation, LaneView lane);

    /// <summary>
    /// The domain's probe was answered (or a candidate's "no such mailbox" stood for it) after some of this party's
    /// recipients were: an acceptance heard before it may count now (<see cref="IsDone"/>).
    /// </summary>
    void ProbeAnswered(LaneView lane)
    {
    }

    /// <summary>Nothing more is wanted (the party is found): answers still outstanding are not waited for.</summary>
    bool IsDone { get; }

    /// <summary>
    /// How likely the server is to accept this recipient (the one <see cref="Peek"/> gave), raised for one whose asking costs
    /// less (a walk may say so): of all its parties' next recipients, the lane asks the likeliest first.
    /// </summary>
    double Likelihood(Recipient recipient, LaneView lane) => 1;
}

/// <summary>
/// One lane per domain: parties of the same domain, from any batch in flight, share the domain's
/// sessions and one catch-all probe, up to <see cref="SmtpOptions.MaxRcptPerSession"/> recipients a
/// session (a "too many recipients" starts a new one). A lane runs one session, and a second (up to
/// <see cref="SmtpOptions.MaxSessionsPerHost"/>) while there is more to ask than one can, when the host
/// has a session to spare: a cold domain's first party then walks its recipients twice as fast.
/// Which recipient comes next, and when a party has heard enough, is its <see cref="IRecipientWalk"/>'s to say.
/// A domain has one lane in the whole cluster (a claim in <c>cluster_leases</c>): another process's people of the
/// domain wait for it, and when their turn comes find the probe's answer (<see cref="IProbeMemory"/>) and go on from what
/// its lane heard of its parties' tags (<see cref="ILaneHandover"/>).
/// </summary>
public sealed class DomainSessions(
    MailboxProber prober, ClusterLeases leases, IProbeMemory probes, ILaneHandover handover, SendingBudget budget, IOptions<SmtpOptions> options, TimeProvider time, ILogger<DomainSessions> logger)
    : IAsyncDisposable
{
    // How long an idle session waits for the next person of its domain before it says goodbye.
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxStopWait = TimeSpan.FromSeconds(15);

    private const int MaxRemembered = 100_000;

    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Task, bool> _sessions = new();
    private readonly Dictionary<string, RcptObservation> _heard = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RcptObservation> _probesDeferred = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="probe">A made-up recipient of the domain, or null when the domain is known not to be catch-all.</param>
    /// <param name="recheckUnreachable">The party is asked again after the domain's hosts could not be reached: they are tried again, not taken as remembered (<see cref="MailboxProber.OpenAsync"/>).</param>
    /// <param name="probeFirst">
    /// The probe is asked before any candidate, not after the lane's opener (<see cref="Take"/>): the caller knows or suspects the
    /// domain greylists, where the probe is planted first and each retry asks it first.
    /// </param>
    public Task<PersonProbeResult> AskAsync(string domain, MailRouting.Hosts routing, string? probe, IRecipientWalk walk, CancellationToken cancellationToken,
        bool recheckUnreachable = false, bool probeFirst = false)
    {
        var request = new Request(routing, probe, walk, cancellationToken) { RecheckUnreachable = recheckUnreachable, ProbeFirst = probeFirst };
        lock (_lanes)
        {
            if (!_lanes.TryGetValue(domain, out var lane))
            {
                lane = new Lane(domain, time.GetUtcNow());
                _lanes[domain] = lane;
            }

            if (lane.RefusedBy is { } refusal)
            {
                // The host refused us a moment ago: nobody of this domain is asked anything more.
                request.Done.TrySetResult(new PersonProbeResult(null, [], refusal, null));
                return request.Done.Task;
            }

            lane.Requests.Add(request);
            lane.Changed.Release();
            if (lane.Sessions == 0)
            {
                lane.Sessions = 1;
                Start(lane, primary: true);
            }
        }

        return request.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// When the process stops, after its workers have given up on the people still waiting: every open session ends
    /// as sessions always end (RSET, QUIT), within the time its last reply and goodbye may take, instead of being cut
    /// off as the process exits.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // The reply being waited for, then the goodbye (RSET, QUIT: ProbeSession gives it 5 s); never more than a service manager waits.
        var limit = Linger + options.Value.CommandTimeout + TimeSpan.FromSeconds(5);
        limit = limit < MaxStopWait ? limit : MaxStopWait;
        var started = time.GetTimestamp();
        while (!_sessions.IsEmpty && time.GetElapsedTime(started) < limit)
        {
            try
            {
                var left = limit - time.GetElapsedTime(started);
                await Task.WhenAll(_sessions.Keys).WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
            }
            catch (TimeoutException)
            {
                logger.LogWarning("{Count} SMTP sessions did not end within {Limit} of the stop", _sessions.Count, limit);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A session's own failure was logged where it happened.
            }
        }
    }

    private void Start(Lane lane, bool primary)
    {
        var session = Task.Run(() => RunSessionAsync(lane, primary));
        _sessions[session] = true;
        _ = session.ContinueWith(ended => _sessions.TryRemove(ended, out _), TaskScheduler.Default);
    }

    /// <summary>
    /// One session of a lane, taking the next thing to ask until the lane has nothing left. When the
    /// primary session cannot be opened, the oldest person gets the failure; an extra one just ends. The
    /// last session to end starts the next when anyone is still waiting, so no one is stranded.
    /// </summary>
    private async Task RunSessionAsync(Lane lane, bool primary)
    {
        try
        {
            Request? oldest;
            lock (_lanes)
            {
                oldest = lane.Requests.FirstOrDefault();
            }

            if (oldest is null || (primary && !await ClaimAsync(lane)))
            {
                return;
            }

            var (session, failure) = await prober.OpenAsync(oldest.Routing, CancellationToken.None, extra: primary ? null : () =>
            {
                lock (_lanes)
                {
                    return HasWork(lane);
                }
            }, recheckUnreachable: oldest.RecheckUnreachable);
            if (session is not null)
            {
                await ServeAsync(lane, session);
            }
            else if (failure is { RefusedUs: true })
            {
                // The host refused us before any RCPT: nobody of the domain is asked, now or while the lane lives.
                lock (_lanes)
                {
                    lane.RefusedBy = failure;
                    lane.Requests.ToList().ForEach(request => Finish(lane, request, failure));
                }
            }
            else if (primary && failure is { Unreachable: true, RememberedUnreachable: false })
            {
                // No host could be reached just now: everyone waiting shares that attempt, rather than each making it again.
                lock (_lanes)
                {
                    lane.Requests.ToList().ForEach(request => Finish(lane, request, failure));
                }
            }
            else if (primary)
            {
                lock (_lanes)
                {
                    Finish(lane, oldest, failure);
                }
            }
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "An SMTP session of {Domain} failed", lane.Domain);
            lock (_lanes)
            {
                lane.ProbeInFlight = false;
                lane.OpenerInFlight = false;
                foreach (var request in lane.Requests.ToList())
                {
                    request.Done.TrySetException(exception);
                    lane.Requests.Remove(request);
                }
            }
        }
        finally
        {
            lock (_lanes)
            {
                lane.Sessions--;
                if (lane.Sessions == 0 && lane.Requests.Count > 0)
                {
                    // Someone is still waiting (arrived after the last look, or behind a failed open): a new session.
                    lane.Sessions = 1;
                    Start(lane, primary: true);
                }
                else if (lane.Sessions == 0)
                {
                    _lanes.Remove(lane.Domain);
                    _ = ReleaseAsync(lane.Domain, lane.Claim, lane.Tags);
                }
            }
        }
    }

    private async Task ServeAsync(Lane lane, ProbeSession session)
    {
        var settings = options.Value;
        ProbeSession? open = session;
        try
        {
            while (await NextAsync(lane, settings) is { } work)
            {
                if (open is not null && prober.RefusedUs(open.Host) is { } refusedElsewhere)
                {
                    // Another domain's lane on this host was refused a moment ago: this one asks nothing more either.
                    lock (_lanes)
                    {
                        lane.RefusedBy = refusedElsewhere;
                        work.Request.InFlight -= work.Recipient is null ? 0 : 1;
                        lane.ProbeInFlight &= work.Recipient is not null;
                        lane.OpenerInFlight &= !work.Opener;
                        lane.Requests.ToList().ForEach(request => Finish(lane, request, refusedElsewhere));
                    }

                    return;
                }

                RcptObservation? observation;
                SessionFailure? spent;
                (open, observation, spent) = await AskWithRoomAsync(open, work.Request.Routing, work.Address, () => IsWanted(work), settings);
                if (spent is not null)
                {
                    StopAtBudget(lane, work, spent, open?.Host);
                    return;
                }

                if (observation is null && open is not null)
                {
                    // Its party heard enough while it waited for a session with room (another of its recipients was
                    // accepted): dropped from the queue, not asked.
                    lock (_lanes)
                    {
                        Record(lane, work, null, open.Host);
                        lane.Changed.Release();
                    }

                    continue;
                }

                if (observation is { Outcome: RcptOutcome.PolicyRefusal } && ReplyInterpreter.RefusesTheClient(observation.Reply))
                {
                    await StopAtRefusalAsync(lane, work, observation);
                    return;
                }

                RcptObservation? probeAnswer;
                lock (_lanes)
                {
                    Remember(observation);
                    probeAnswer = Record(lane, work, observation, open?.Host);
                    Remember(probeAnswer);
                    RememberDeferral(probeAnswer);
                    if (open is null)
                    {
                        Finish(lane, work.Request, new SessionFailure("the session could not be continued", true));
                    }

                    lane.Changed.Release();
                }

                if (probeAnswer is { Outcome: RcptOutcome.Accepted or RcptOutcome.Rejected })
                {
                    // Before the lane's claim can be released: whoever has the domain next reads it instead of asking.
                    await probes.RememberAsync(lane.Domain, probeAnswer, CancellationToken.None);
                }

                if (open is null)
                {
                    return;
                }
            }
        }
        finally
        {
            if (open is not null)
            {
                await open.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The host refused us at RCPT (a block list, our reputation, 5.7.x): the first refusal stops all
    /// probing of it for everyone at once, in this lane and (through the host memory) in every process,
    /// so that it sees that one refused recipient and no other until the cool-down ends.
    /// </summary>
    private async Task StopAtRefusalAsync(Lane lane, Work work, RcptObservation refused)
    {
        var failure = new SessionFailure($"{refused.Host} refused us: {refused.Reply}", Temporary: false, RefusedUs: true) { Host = refused.Host, Reply = refused.Reply };
        lock (_lanes)
        {
            lane.RefusedBy = failure;
            Record(lane, work, refused, refused.Host);
            foreach (var request in lane.Requests.ToList())
            {
                Finish(lane, request, failure);
            }

            lane.Changed.Release();
        }

        await prober.RememberRefusalAsync(refused.Host, refused.Reply.ToString(), CancellationToken.None);
    }

    /// <summary>
    /// Takes the domain's one lane in the cluster, waiting while another process has it (or until nobody here waits any
    /// more), then reads what the domain's probe was answered there; false when nobody is left to ask for.
    /// </summary>
    private async Task<bool> ClaimAsync(Lane lane)
    {
        if (lane.Claim is not null)
        {
            return true;
        }

        lane.Claim = await leases.AcquireWhileAsync("smtp-domain:" + lane.Domain.ToLowerInvariant(), 1, () =>
        {
            lock (_lanes)
            {
                return lane.Requests.Any(r => !r.Cancellation.IsCancellationRequested);
            }
        }, CancellationToken.None);
        if (lane.Claim is { WaitedFor: true } && await handover.TakeOverAsync(lane.Domain, lane.WaitingSince, CancellationToken.None) is { } heard)
        {
            // Another process's lane had the domain while this one's people waited: they go on from what it heard.
            lock (_lanes)
            {
                lane.TakeOver(heard);
            }
        }

        string? probe;
        lock (_lanes)
        {
            probe = lane.Probe is null ? lane.Requests.FirstOrDefault(r => r.Probe is not null)?.Probe : null;
        }

        if (probe is not null && await probes.AnsweredAsync(lane.Domain, probe, CancellationToken.None) is { } answered)
        {
            lock (_lanes)
            {
                if (lane.Probe is null)
                {
                    ProbeHeard(lane, answered);
                }
            }
        }

        if (lane.Claim is null)
        {
            lock (_lanes)
            {
                // Everyone waiting gave up: the lane ends here.
                foreach (var request in lane.Requests.Where(r => r.Cancellation.IsCancellationRequested).ToList())
                {
                    lane.Requests.Remove(request);
                    request.Done.TrySetCanceled(request.Cancellation);
                }
            }
        }

        return lane.Claim is not null;
    }

    /// <summary>
    /// The lane ended: what it heard of its people's tags is handed over first, for a lane of another process waiting for
    /// the domain, then its claim is released. (A lane that claimed nothing, or heard nothing, has nothing to hand over.)
    /// </summary>
    private async Task ReleaseAsync(string domain, ClusterLease? claim, LaneTags tags)
    {
        if (claim is null)
        {
            return;
        }

        try
        {
            if (!tags.IsEmpty)
            {
                await handover.HandOverAsync(domain, tags, CancellationToken.None);
            }
        }
        finally
        {
            await claim.DisposeAsync();
        }
    }

    /// <summary>
    /// The deployment's sending budget is spent: nothing more is asked now, and everyone of the lane is answered with
    /// what was heard so far and why the rest was not asked (they are put off, and come back when it has room).
    /// </summary>
    private void StopAtBudget(Lane lane, Work work, SessionFailure spent, string? host)
    {
        logger.LogInformation("Not asking {Domain} more for now: {Why}", lane.Domain, spent.Why);
        lock (_lanes)
        {
            Record(lane, work, null, host);
            foreach (var request in lane.Requests.ToList())
            {
                Finish(lane, request, spent);
            }

            lane.Changed.Release();
        }
    }

    /// <summary>The next recipient this session should ask, waiting up to the linger for one; null when there is none.</summary>
    private async Task<Work?> NextAsync(Lane lane, SmtpOptions settings)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            lock (_lanes)
            {
                if (Take(lane) is { } work)
                {
                    if (lane.Sessions < settings.MaxSessionsPerHost && (IsCold(lane) || IsWalking(lane)) && HasWork(lane))
                    {
                        lane.Sessions++;
                        Start(lane, primary: false);
                    }

                    return work;
                }
            }

            var left = Linger - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || !await lane.Changed.WaitAsync(left))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Someone's first candidate was turned down: the domain's shape is not known, and a walk of several
    /// recipients is under way. Only then does a second session (three replies to open) pay for itself.
    /// </summary>
    private static bool IsWalking(Lane lane) => lane.Requests.Any(r => r.Observations.Any(o => o.Outcome != RcptOutcome.Accepted));

    /// <summary>
    /// The domain's catch-all probe, or the opener asked in its place, is being asked, so nothing is known of it: its people's
    /// candidates (or the probe) will follow as soon as the answer comes, and a second session opening now is ready for them by then.
    /// </summary>
    private static bool IsCold(Lane lane) => lane.ProbeInFlight || lane.OpenerInFlight;

    /// <summary>Whether another session would find something to ask now, or as soon as the probe is answered (without taking it).</summary>
    private static bool HasWork(Lane lane) =>
        lane.Requests.Any(r => !r.Cancellation.IsCancellationRequested && r.Walk.Peek(lane.View) is not null);

    /// <summary>
    /// Of every party's next recipient, the likeliest to be accepted (the oldest party's of equals), so that what it teaches
    /// the lane reaches the others before they ask. Must be called under the lanes' lock.
    /// </summary>
    /// <remarks>
    /// While the domain's catch-all probe is not answered, its people's candidates mean nothing, so one recipient is asked
    /// and the rest wait: first the likeliest candidate (the opener), whose "no such mailbox" answers the probe's question
    /// (the server rejects addresses that do not exist: not catch-all), so the probe is never asked; if the opener is
    /// answered anything else (accepted, deferred, no verdict), the probe next, and an acceptance counts once it is rejected.
    /// The probe goes first when a party asks for it (<see cref="Request.ProbeFirst"/>: a greylisting domain), after an
    /// opener was answered, or when nobody waiting for it has a candidate to ask.
    /// </remarks>
    private Work? Take(Lane lane)
    {
        (Request Request, Recipient Recipient, double Likelihood)? likeliest = null;
        Request? awaitingProbe = null;
        foreach (var request in lane.Requests.ToList())
        {
            if (request.Cancellation.IsCancellationRequested)
            {
                lane.Requests.Remove(request);
                request.Done.TrySetCanceled(request.Cancellation);
                continue;
            }

            var needsProbe = NeedsProbe(lane, request);
            if (needsProbe)
            {
                if (lane.ProbeInFlight || lane.OpenerInFlight)
                {
                    continue; // its candidates mean nothing until the probe (or the opener in its place) is answered
                }

                if ((Remembered(request.Probe!) ?? StillDeferred(request.Probe!)) is { } probeAnswer)
                {
                    ProbeHeard(lane, probeAnswer);
                    needsProbe = false;
                }
                else if (!OpensWithCandidate(lane))
                {
                    lane.ProbeInFlight = true;
                    return new Work(request, request.Probe!, null);
                }
                else
                {
                    awaitingProbe ??= request;
                }
            }

            while (!request.Done.Task.IsCompleted && request.Walk.Peek(lane.View) is { } next)
            {
                if (Remembered(next.Address) is not { } answer)
                {
                    var likelihood = request.Walk.Likelihood(next, lane.View);
                    if (likeliest is null || likelihood > likeliest.Value.Likelihood)
                    {
                        likeliest = (request, next, likelihood);
                    }

                    break;
                }

                if (needsProbe)
                {
                    break; // an answer heard before is taken once the probe's is known, as one asked now would be
                }

                // Heard a moment ago (an earlier round of a greylisting domain, an earlier batch): no RCPT for it.
                request.Walk.Asking(next, lane.View);
                request.InFlight++;
                Record(lane, new Work(request, next.Address, next), answer, answer.Host);
            }

            if (!request.Done.Task.IsCompleted && HasNothingMoreToAsk(lane, request))
            {
                Finish(lane, request, null);
            }
        }

        if (likeliest is { } chosen)
        {
            var opener = NeedsProbe(lane, chosen.Request);
            lane.OpenerInFlight |= opener;
            chosen.Request.Walk.Asking(chosen.Recipient, lane.View);
            chosen.Request.InFlight++;
            return new Work(chosen.Request, chosen.Recipient.Address, chosen.Recipient, opener);
        }

        if (awaitingProbe is not null)
        {
            // Nobody waiting for the probe has a candidate to ask in its place.
            lane.ProbeInFlight = true;
            return new Work(awaitingProbe, awaitingProbe.Probe!, null);
        }

        return null;
    }

    /// <summary>Whether the lane may ask a candidate in the probe's place (<see cref="Take"/>). Under the lanes' lock.</summary>
    private static bool OpensWithCandidate(Lane lane) =>
        !lane.OpenerTried && !lane.Requests.Any(r => r.ProbeFirst && NeedsProbe(lane, r) && !r.Cancellation.IsCancellationRequested);

    private static bool NeedsProbe(Lane lane, Request request) => request.Probe is not null && lane.Probe is null;

    /// <summary>
    /// Nothing of the party's is in flight, its walk has no next recipient, and it does not wait for the domain's probe: it
    /// is finished. A party whose opener was answered without answering the probe's question (accepted, deferred, refused by
    /// a policy) waits for the probe, asked next (<see cref="Take"/>): finished before it, it would be said "did not answer",
    /// and at a greylisting domain the probe would not be planted with its candidate. Under the lanes' lock.
    /// </summary>
    private static bool HasNothingMoreToAsk(Lane lane, Request request) =>
        request.InFlight == 0 && !NeedsProbe(lane, request) && request.Walk.Peek(lane.View) is null;

    /// <summary>Forgets the verdicts heard for these recipients (an erased person's addresses): they are asked afresh if ever asked again.</summary>
    public void Forget(IEnumerable<string> addresses)
    {
        lock (_lanes)
        {
            foreach (var address in addresses)
            {
                _heard.Remove(address);
            }
        }
    }

    /// <summary>Whether a verdict heard for this recipient is still used instead of asking.</summary>
    internal bool Remembers(string address)
    {
        lock (_lanes)
        {
            return Remembered(address) is not null;
        }
    }

    /// <summary>A verdict (accepted or rejected) heard for this recipient within <see cref="SmtpOptions.RememberAnswersFor"/>. Under the lanes' lock.</summary>
    private RcptObservation? Remembered(string address) =>
        _heard.TryGetValue(address, out var heard) && time.GetUtcNow() - heard.At < options.Value.RememberAnswersFor ? heard : null;

    /// <summary>Under the lanes' lock.</summary>
    private void Remember(RcptObservation? observation)
    {
        if (observation is not { Outcome: RcptOutcome.Accepted or RcptOutcome.Rejected })
        {
            return;
        }

        if (_heard.Count >= MaxRemembered)
        {
            var stale = time.GetUtcNow() - options.Value.RememberAnswersFor;
            foreach (var old in _heard.Where(h => h.Value.At < stale).Select(h => h.Key).ToList())
            {
                _heard.Remove(old);
            }

            if (_heard.Count >= MaxRemembered)
            {
                _heard.Clear();
            }
        }

        _heard[observation.Address] = observation;
    }

    /// <summary>
    /// The domain's probe, deferred a moment ago (within a quarter of the greylisting schedule's first step, the slack its
    /// rounds allow), is still deferred: no greylisting delay is that short. So a lane that opens for people arriving a little
    /// later in the same round takes that answer and plants their candidates, instead of planting the probe again, one RCPT
    /// each. Under the lanes' lock.
    /// </summary>
    private RcptObservation? StillDeferred(string probe)
    {
        var settings = options.Value;
        var stillFor = settings.GreylistSchedule[0] / 4 < settings.RememberAnswersFor ? settings.GreylistSchedule[0] / 4 : settings.RememberAnswersFor;
        return _probesDeferred.TryGetValue(probe, out var deferred) && time.GetUtcNow() - deferred.At < stillFor ? deferred : null;
    }

    /// <summary>A probe's deferral, for <see cref="StillDeferred"/>: the latest of each domain's probe. Under the lanes' lock.</summary>
    private void RememberDeferral(RcptObservation? probeAnswer)
    {
        if (probeAnswer is not { Outcome: RcptOutcome.Temporary })
        {
            return;
        }

        if (_probesDeferred.Count >= MaxRemembered)
        {
            _probesDeferred.Clear();
        }

        _probesDeferred[probeAnswer.Address] = probeAnswer;
    }

    /// <summary>
    /// A recipient's answer (null: not asked after all). Returns the domain's probe's answer when this work gave it: the probe's
    /// own, or the one an opener's "no such mailbox" stands for. Must be called under the lanes' lock.
    /// </summary>
    private static RcptObservation? Record(Lane lane, Work work, RcptObservation? observation, string? host)
    {
        var request = work.Request;
        request.Host = host ?? request.Host;
        if (work.Recipient is null)
        {
            lane.ProbeInFlight = false;
            if (observation is not null)
            {
                ProbeHeard(lane, observation);
            }

            return observation;
        }

        RcptObservation? probeAnswer = null;
        if (work.Opener)
        {
            lane.OpenerInFlight = false;
            lane.OpenerTried |= observation is not null;
            if (observation is not null && lane.Probe is null && request.Probe is { } probe && ReplyInterpreter.SaysNoSuchMailbox(observation.Reply))
            {
                probeAnswer = StandsForProbe(probe, observation);
                ProbeHeard(lane, probeAnswer);
            }
        }

        request.InFlight--;
        if (observation is null || request.Done.Task.IsCompleted)
        {
            return probeAnswer;
        }

        request.Observations.Add(observation);
        if (observation.Outcome == RcptOutcome.Rejected && work.Recipient.Tag is { } rejectedTag)
        {
            lane.RejectedByTag[rejectedTag] = lane.RejectedByTag.GetValueOrDefault(rejectedTag) + 1;
        }

        request.Walk.Answered(work.Recipient, observation, lane.View);
        if (observation.Outcome is RcptOutcome.Accepted or RcptOutcome.MailboxFull)
        {
            if (request.Walk.IsDone)
            {
                CountFound(lane, work.Recipient);
            }
            else if (request.Probe is not null && lane.Probe is null)
            {
                request.ExistsBeforeProbe = work.Recipient;
            }
        }

        if (request.Walk.IsDone || HasNothingMoreToAsk(lane, request))
        {
            Finish(lane, request, null);
        }

        return probeAnswer;
    }

    /// <summary>A party's walk ended on this recipient's acceptance: what the domain's addresses look like. Under the lanes' lock.</summary>
    private static void CountFound(Lane lane, Recipient found)
    {
        if (found.Tag is { } tag)
        {
            lane.LastFoundTag = tag;
            lane.FoundByTag[tag] = lane.FoundByTag.GetValueOrDefault(tag) + 1;
        }
    }

    /// <summary>
    /// The domain's probe was answered (or an opener's "no such mailbox" stood for it): a party whose candidate was accepted
    /// before it, while the answer was awaited, is found if the acceptance counts now. Under the lanes' lock.
    /// </summary>
    private static void ProbeHeard(Lane lane, RcptObservation answer)
    {
        lane.Probe = answer;
        foreach (var request in lane.Requests.Where(r => r.Probe is not null && !r.Done.Task.IsCompleted).ToList())
        {
            request.Walk.ProbeAnswered(lane.View);
            if (request.Walk.IsDone)
            {
                if (request.ExistsBeforeProbe is { } found)
                {
                    CountFound(lane, found);
                }

                Finish(lane, request, null);
            }
        }
    }

    /// <summary>
    /// The probe's answer an opener's "no such mailbox" stands for: the server rejects addresses that do not exist, so it is
    /// not catch-all. Kept and shared as the probe's answer is, for every person of the domain, so it carries the probe's
    /// address, the server's codes and plain words: never the opener's address (another person's guessed address), nor the
    /// server's text, which may quote it.
    /// </summary>
    private static RcptObservation StandsForProbe(string probe, RcptObservation rejected) =>
        new(probe, RcptOutcome.Rejected, new SmtpReply(rejected.Reply.Code, rejected.Reply.EnhancedCode, NotCatchAllWords), rejected.Host, rejected.At);

    /// <summary>What the server's reply is kept as when a person's candidate answered the probe's question.</summary>
    public const string NotCatchAllWords = "rejected an address of the domain that does not exist (the catch-all probe was not asked)";

    /// <summary>Must be called under the lanes' lock.</summary>
    private static void Finish(Lane lane, Request request, SessionFailure? failure)
    {
        lane.Requests.Remove(request);
        var probe = request.Probe is null ? null : lane.Probe;
        request.Done.TrySetResult(new PersonProbeResult(probe, request.Observations.ToList(), failure, request.Host));
    }

    /// <summary>
    /// Whether a recipient taken from the lane is still worth its RCPT: not once its party heard enough (found) or gave up.
    /// The catch-all probe always is. Takes the lanes' lock.
    /// </summary>
    private bool IsWanted(Work work)
    {
        if (work.Recipient is null)
        {
            return true;
        }

        lock (_lanes)
        {
            return !work.Request.Done.Task.IsCompleted && !work.Request.Walk.IsDone && !work.Request.Cancellation.IsCancellationRequested;
        }
    }

    /// <summary>
    /// Asks one recipient, in a new session when there is none, or this one has met the server's limits
    /// (recipients, rejections, a throttled or closing session) or says "too many recipients".
    /// </summary>
    /// <remarks>
    /// Each RCPT spends one unit of the sending budget first; a spent budget is the third value, and nothing is asked.
    /// <paramref name="wanted"/> is asked again right before the RCPT: opening a session takes several replies (at a host that
    /// takes one recipient a session, every recipient does), long enough for its party to be found by another session. Then
    /// nothing is asked, and the session comes back with no observation.
    /// </remarks>
    private async Task<(ProbeSession?, RcptObservation?, SessionFailure?)> AskWithRoomAsync(
        ProbeSession? session, MailRouting.Hosts routing, string recipient, Func<bool> wanted, SmtpOptions settings)
    {
        for (var fresh = false; ; fresh = true)
        {
            if (session is not null && session.HasRoom)
            {
                if (!wanted())
                {
                    return (session, null, null);
                }

                if (await budget.TakeRcptAsync(CancellationToken.None) is { } spent)
                {
                    return (session, null, spent);
                }

                RcptObservation observation;
                try
                {
                    observation = await session.AskAsync(recipient, CancellationToken.None);
                }
                catch (Exception exception) when (exception is SmtpProtocolException or IOException or System.Security.Authentication.AuthenticationException)
                {
                    // A server that stops answering (a tarpit, a dropped connection) ends this session only:
                    // the person asked gets "could not be continued", everyone else of the lane goes on.
                    logger.LogInformation("The SMTP session with {Host} broke: {Reason}", session.Host, exception.Message);
                    await session.DisposeAsync();
                    return (null, null, null);
                }

                // "Too many recipients" and a 421 say nothing of the recipient: ask it again in a new session.
                var answered = observation.Outcome != RcptOutcome.TooManyRecipients && !session.Closing;
                if (observation.Outcome == RcptOutcome.TooManyRecipients)
                {
                    await prober.RememberRecipientLimitAsync(session.Host, session.RecipientsAsked - 1, CancellationToken.None);
                }

                if (answered || (fresh && session.RecipientsAsked == 1 && !session.Closing))
                {
                    return (session, observation, null);
                }

                if (fresh && session.Closing)
                {
                    // A 421 to a new session's first recipient: the server will not talk now. Not one new session per candidate.
                    await session.DisposeAsync();
                    return (null, null, null);
                }
            }

            if (session is not null)
            {
                if (session.Throttled)
                {
                    logger.LogInformation("{Host} answered slowly after rejecting recipients: it is throttling us; starting a new session", session.Host);
                }

                await session.DisposeAsync();
            }

            var (reopened, _) = await prober.OpenAsync(routing, CancellationToken.None);
            if (reopened is null)
            {
                return (null, null, null);
            }

            session = reopened;
        }
    }

    private sealed class Lane(string domain, DateTimeOffset waitingSince)
    {
        public string Domain { get; } = domain;

        /// <summary>When its first party arrived: what another process's lane handed over since is for this lane's people.</summary>
        public DateTimeOffset WaitingSince { get; } = waitingSince;

        /// <summary>People of the domain not answered yet, oldest first.</summary>
        public List<Request> Requests { get; } = [];

        /// <summary>Released whenever a person arrives or an answer comes back: idle sessions look again.</summary>
        public SemaphoreSlim Changed { get; } = new(0);

        public int Sessions { get; set; }

        public RcptObservation? Probe { get; set; }

        public bool ProbeInFlight { get; set; }

        /// <summary>A candidate is being asked in the probe's place (<see cref="Take"/>); the lane's other candidates wait for it as for the probe.</summary>
        public bool OpenerInFlight { get; set; }

        /// <summary>An opener was answered without answering the probe's question: the probe is asked next.</summary>
        public bool OpenerTried { get; set; }

        /// <summary>The host refused us: everyone of the lane, and whoever joins it, gets this.</summary>
        public SessionFailure? RefusedBy { get; set; }

        /// <summary>The domain's one lane in the cluster, held while this lane lives.</summary>
        public ClusterLease? Claim { get; set; }

        /// <summary>The tag of the last recipient whose acceptance ended its party's walk (while the lane lives).</summary>
        public string? LastFoundTag { get; set; }

        /// <summary>How many parties' walks ended on an acceptance in each tag (while the lane lives).</summary>
        public Dictionary<string, int> FoundByTag { get; } = [];

        /// <summary>How many parties had a recipient in each tag rejected (while the lane lives).</summary>
        public Dictionary<string, int> RejectedByTag { get; } = [];

        public LaneView View => new(Probe?.Outcome, LastFoundTag, FoundByTag) { RejectedByTag = RejectedByTag };

        /// <summary>A copy of what it heard of its parties' tags, for the lane that takes the domain over. Under the lanes' lock.</summary>
        public LaneTags Tags => new(LastFoundTag, new Dictionary<string, int>(FoundByTag), new Dictionary<string, int>(RejectedByTag));

        /// <summary>What the lane that held the domain before heard, added to what this one heard (nothing yet: it just took the domain). Under the lanes' lock.</summary>
        public void TakeOver(LaneTags heard)
        {
            LastFoundTag ??= heard.LastFoundTag;
            foreach (var (tags, from) in new[] { (FoundByTag, heard.FoundByTag), (RejectedByTag, heard.RejectedByTag) })
            {
                foreach (var (tag, count) in from)
                {
                    tags[tag] = tags.GetValueOrDefault(tag) + count;
                }
            }
        }
    }

    /// <param name="Opener">A candidate asked in place of the domain's probe, while nothing is known of it (<see cref="Take"/>).</param>
    private sealed record Work(Request Request, string Address, Recipient? Recipient, bool Opener = false);

    private sealed record Request(MailRouting.Hosts Routing, string? Probe, IRecipientWalk Walk, CancellationToken Cancellation)
    {
        public TaskCompletionSource<PersonProbeResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<RcptObservation> Observations { get; } = [];

        public int InFlight { get; set; }

        public string? Host { get; set; }

        public bool RecheckUnreachable { get; init; }

        /// <summary>The caller wants the domain's probe asked before any candidate (a greylisting domain).</summary>
        public bool ProbeFirst { get; init; }

        /// <summary>Its candidate accepted (or full) while the probe's answer was awaited: the address found, once the probe is rejected.</summary>
        public Recipient? ExistsBeforeProbe { get; set; }
    }
}
