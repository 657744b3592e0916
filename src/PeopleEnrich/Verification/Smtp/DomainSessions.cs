using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>An address to ask about, and the shape it was built in (its pattern), if any.</summary>
public sealed record Recipient(string Address, string? Shape);

/// <summary>What one person's recipients were answered, beside the domain's catch-all probe.</summary>
public sealed record PersonProbeResult(RcptObservation? Probe, IReadOnlyList<RcptObservation> Recipients, SessionFailure? Failure, string? Host);

/// <summary>
/// One lane per domain: people of the same domain, from any batch in flight, share the domain's
/// sessions and one catch-all probe, up to <see cref="SmtpOptions.MaxRcptPerSession"/> recipients a
/// session (a "too many recipients" starts a new one). A lane runs one session, and a second (up to
/// <see cref="SmtpOptions.MaxSessionsPerHost"/>) while there is more to ask than one can, when the host
/// has a session to spare: a cold domain's first person then walks their candidates twice as fast.
/// A person's candidates stop at the first accepted on a domain that rejected the probe, and the shape
/// of the last accepted address is asked first for everyone still walking.
/// </summary>
public sealed class DomainSessions(MailboxProber prober, IOptions<SmtpOptions> options, TimeProvider time, ILogger<DomainSessions> logger)
{
    // How long an idle session waits for the next person of its domain before it says goodbye.
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="probe">A made-up recipient of the domain, or null when the domain is known not to be catch-all.</param>
    public Task<PersonProbeResult> AskAsync(string domain, MailRouting.Hosts routing, string? probe, IReadOnlyList<Recipient> recipients, CancellationToken cancellationToken)
    {
        var request = new Request(routing, probe, recipients, cancellationToken);
        lock (_lanes)
        {
            if (!_lanes.TryGetValue(domain, out var lane))
            {
                lane = new Lane(domain);
                _lanes[domain] = lane;
            }

            lane.Requests.Add(request);
            lane.Changed.Release();
            if (lane.Sessions == 0)
            {
                lane.Sessions = 1;
                _ = Task.Run(() => RunSessionAsync(lane, primary: true));
            }
        }

        return request.Done.Task.WaitAsync(cancellationToken);
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

            if (oldest is null)
            {
                return;
            }

            var (session, failure) = await prober.OpenAsync(oldest.Routing, CancellationToken.None, extra: primary ? null : () =>
            {
                lock (_lanes)
                {
                    return HasWork(lane);
                }
            });
            if (session is not null)
            {
                await ServeAsync(lane, session);
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
                    _ = Task.Run(() => RunSessionAsync(lane, primary: true));
                }
                else if (lane.Sessions == 0)
                {
                    _lanes.Remove(lane.Domain);
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
                RcptObservation? observation;
                (open, observation) = await AskWithRoomAsync(open, work.Request.Routing, work.Address, settings);
                lock (_lanes)
                {
                    Record(lane, work, observation, open?.Host);
                    if (open is null)
                    {
                        Finish(lane, work.Request, new SessionFailure("the session could not be continued", true));
                    }

                    lane.Changed.Release();
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
                        _ = Task.Run(() => RunSessionAsync(lane, primary: false));
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
    /// The domain's catch-all probe is being asked, so nothing is known of it: its people's candidates will
    /// follow as soon as the answer comes, and a second session opening now is ready for them by then.
    /// </summary>
    private static bool IsCold(Lane lane) => lane.ProbeInFlight;

    /// <summary>Whether another session would find something to ask now, or as soon as the probe is answered (without taking it).</summary>
    private static bool HasWork(Lane lane) =>
        lane.Requests.Any(r => !r.Cancellation.IsCancellationRequested && (NeedsProbe(lane, r)
            ? r.Recipients.Count > 0
            : MayWalk(lane, r) && !r.ShapeInFlight && r.NextCandidate(lane.AcceptedShape) is not null));

    /// <summary>Must be called under the lanes' lock.</summary>
    private static Work? Take(Lane lane)
    {
        foreach (var request in lane.Requests.ToList())
        {
            if (request.Cancellation.IsCancellationRequested)
            {
                lane.Requests.Remove(request);
                request.Done.TrySetCanceled(request.Cancellation);
                continue;
            }

            if (NeedsProbe(lane, request))
            {
                if (lane.ProbeInFlight)
                {
                    continue; // its candidates mean nothing until the probe is answered
                }

                lane.ProbeInFlight = true;
                return new Work(request, request.Probe!, null);
            }

            if (!MayWalk(lane, request))
            {
                Finish(lane, request, null); // a catch-all: the probe said all there is to say
                continue;
            }

            if (request.ShapeInFlight)
            {
                continue; // the domain's shape is being asked for this person: the rest waits on its answer
            }

            if (request.NextCandidate(lane.AcceptedShape) is { } next)
            {
                request.Asked.Add(next);
                request.InFlight++;
                request.ShapeInFlight = next.Shape is not null && next.Shape == lane.AcceptedShape;
                return new Work(request, next.Address, next);
            }

            if (request.InFlight == 0)
            {
                Finish(lane, request, null);
            }
        }

        return null;
    }

    private static bool NeedsProbe(Lane lane, Request request) => request.Probe is not null && lane.Probe is null;

    private static bool MayWalk(Lane lane, Request request) => request.Probe is null || lane.Probe?.Outcome != RcptOutcome.Accepted;

    /// <summary>Must be called under the lanes' lock.</summary>
    private static void Record(Lane lane, Work work, RcptObservation? observation, string? host)
    {
        var request = work.Request;
        request.Host = host ?? request.Host;
        if (work.Candidate is null)
        {
            lane.ProbeInFlight = false;
            lane.Probe = observation ?? lane.Probe;
            return;
        }

        request.InFlight--;
        request.ShapeInFlight = false;
        if (observation is null || request.Done.Task.IsCompleted)
        {
            return;
        }

        request.Observations.Add(observation);
        var probeRejected = request.Probe is null || lane.Probe?.Outcome == RcptOutcome.Rejected;
        if (observation.Outcome == RcptOutcome.Accepted && probeRejected)
        {
            lane.AcceptedShape = work.Candidate.Shape ?? lane.AcceptedShape;
            Finish(lane, request, null); // found: the rest of this person's candidates would only cost the server
        }
        else if (request.InFlight == 0 && request.NextCandidate(lane.AcceptedShape) is null)
        {
            Finish(lane, request, null);
        }
    }

    /// <summary>Must be called under the lanes' lock.</summary>
    private static void Finish(Lane lane, Request request, SessionFailure? failure)
    {
        lane.Requests.Remove(request);
        var probe = request.Probe is null ? null : lane.Probe;
        request.Done.TrySetResult(new PersonProbeResult(probe, request.Observations.ToList(), failure, request.Host));
    }

    /// <summary>Asks one recipient, in a new session when there is none, or this one is full or says "too many recipients".</summary>
    private async Task<(ProbeSession?, RcptObservation?)> AskWithRoomAsync(ProbeSession? session, MailRouting.Hosts routing, string recipient, SmtpOptions settings)
    {
        for (var fresh = false; ; fresh = true)
        {
            if (session is not null && session.RecipientsAsked < settings.MaxRcptPerSession)
            {
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
                    return (null, null);
                }

                if (observation.Outcome != RcptOutcome.TooManyRecipients || (fresh && session.RecipientsAsked == 1))
                {
                    return (session, observation);
                }
            }

            if (session is not null)
            {
                await session.DisposeAsync();
            }

            var (reopened, _) = await prober.OpenAsync(routing, CancellationToken.None);
            if (reopened is null)
            {
                return (null, null);
            }

            session = reopened;
        }
    }

    private sealed class Lane(string domain)
    {
        public string Domain { get; } = domain;

        /// <summary>People of the domain not answered yet, oldest first.</summary>
        public List<Request> Requests { get; } = [];

        /// <summary>Released whenever a person arrives or an answer comes back: idle sessions look again.</summary>
        public SemaphoreSlim Changed { get; } = new(0);

        public int Sessions { get; set; }

        public RcptObservation? Probe { get; set; }

        public bool ProbeInFlight { get; set; }

        /// <summary>The shape of the last address accepted on this domain (while the lane lives).</summary>
        public string? AcceptedShape { get; set; }
    }

    private sealed record Work(Request Request, string Address, Recipient? Candidate);

    private sealed record Request(MailRouting.Hosts Routing, string? Probe, IReadOnlyList<Recipient> Recipients, CancellationToken Cancellation)
    {
        public TaskCompletionSource<PersonProbeResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HashSet<Recipient> Asked { get; } = [];

        public List<RcptObservation> Observations { get; } = [];

        public int InFlight { get; set; }

        /// <summary>A candidate in the lane's accepted shape is out: the likeliest answer, so nothing else is asked meanwhile.</summary>
        public bool ShapeInFlight { get; set; }

        public string? Host { get; set; }

        /// <summary>What this session just learned goes first: the shape last accepted, then the person's own order.</summary>
        public Recipient? NextCandidate(string? acceptedShape) =>
            Recipients.FirstOrDefault(r => acceptedShape is not null && r.Shape == acceptedShape && !Asked.Contains(r))
            ?? Recipients.FirstOrDefault(r => !Asked.Contains(r));
    }
}
