using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>An address to ask about, and the shape it was built in (its pattern), if any.</summary>
public sealed record Recipient(string Address, string? Shape);

/// <summary>What one person's recipients were answered, beside the domain's catch-all probe.</summary>
public sealed record PersonProbeResult(RcptObservation? Probe, IReadOnlyList<RcptObservation> Recipients, SessionFailure? Failure, string? Host);

/// <summary>
/// One lane per domain: people of the same domain, from any batch in flight, share one SMTP session
/// and one catch-all probe, up to <see cref="SmtpOptions.MaxRcptPerSession"/> recipients a session
/// (a "too many recipients" starts a new one). Each person's recipients are asked in order and stop
/// at the first accepted on a domain that rejected the probe.
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
                lane = new Lane();
                _lanes[domain] = lane;
            }

            lane.Pending.Enqueue(request);
            lane.Arrived.Release();
            if (!lane.Running)
            {
                lane.Running = true;
                _ = Task.Run(() => RunLaneAsync(domain, lane));
            }
        }

        return request.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunLaneAsync(string domain, Lane lane)
    {
        while (true)
        {
            Request? first;
            lock (_lanes)
            {
                if (!lane.Pending.TryDequeue(out first))
                {
                    lane.Running = false;
                    _lanes.Remove(domain);
                    return;
                }
            }

            try
            {
                await ServeAsync(lane, first);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "The SMTP lane of {Domain} failed", domain);
                first.Done.TrySetException(exception);
            }
        }
    }

    /// <summary>One session for <paramref name="first"/> and whoever of the domain arrives while it is open.</summary>
    private async Task ServeAsync(Lane lane, Request first)
    {
        var settings = options.Value;
        var (session, failure) = await prober.OpenAsync(first.Routing, CancellationToken.None);
        if (session is null)
        {
            first.Done.TrySetResult(new PersonProbeResult(null, [], failure, null));
            return;
        }

        RcptObservation? probe = null;
        try
        {
            for (var request = first; request is not null; request = await NextAsync(lane))
            {
                if (request.Cancellation.IsCancellationRequested)
                {
                    request.Done.TrySetCanceled(request.Cancellation);
                    continue;
                }

                try
                {
                    if (request.Probe is not null && probe is null)
                    {
                        (session, probe) = await AskWithRoomAsync(session, request, request.Probe, settings);
                        if (session is null)
                        {
                            request.Done.TrySetResult(new PersonProbeResult(probe, [], new SessionFailure("the session could not be continued", true), null));
                            return;
                        }
                    }

                    var observations = new List<RcptObservation>();
                    var host = session.Host;
                    if (probe?.Outcome != RcptOutcome.Accepted)
                    {
                        // What this session just learned goes first: once one person's address was accepted
                        // in a shape, the next person of the domain is asked in that shape before any other.
                        var shape = lane.AcceptedShape;
                        foreach (var recipient in request.Recipients.OrderBy(r => shape is not null && r.Shape == shape ? 0 : 1))
                        {
                            RcptObservation? observation;
                            (session, observation) = await AskWithRoomAsync(session, request, recipient.Address, settings);
                            if (observation is not null)
                            {
                                observations.Add(observation);
                            }

                            if (session is null)
                            {
                                request.Done.TrySetResult(new PersonProbeResult(probe, observations, new SessionFailure("the session could not be continued", true), host));
                                return;
                            }

                            var probeRejected = request.Probe is null || probe?.Outcome == RcptOutcome.Rejected;
                            if (observation?.Outcome == RcptOutcome.Accepted && probeRejected)
                            {
                                lane.AcceptedShape = recipient.Shape ?? lane.AcceptedShape;
                                break; // found: the rest of this person's candidates would only cost the server
                            }
                        }
                    }

                    request.Done.TrySetResult(new PersonProbeResult(request.Probe is null ? null : probe, observations, null, host));
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // This person's lookup fails (a source error, retried); the session is not trusted further.
                    request.Done.TrySetException(exception);
                    return;
                }
            }
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync();
            }
        }
    }

    /// <summary>Asks one recipient, in a new session when there is none, or this one is full or says "too many recipients".</summary>
    private async Task<(ProbeSession?, RcptObservation?)> AskWithRoomAsync(ProbeSession? session, Request request, string recipient, SmtpOptions settings)
    {
        for (var fresh = false; ; fresh = true)
        {
            if (session is not null && session.RecipientsAsked < settings.MaxRcptPerSession)
            {
                var observation = await session.AskAsync(recipient, CancellationToken.None);
                if (observation.Outcome != RcptOutcome.TooManyRecipients || (fresh && session.RecipientsAsked == 1))
                {
                    return (session, observation);
                }
            }

            if (session is not null)
            {
                await session.DisposeAsync();
            }

            var (reopened, _) = await prober.OpenAsync(request.Routing, CancellationToken.None);
            if (reopened is null)
            {
                return (null, null);
            }

            session = reopened;
        }
    }

    private async Task<Request?> NextAsync(Lane lane)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            lock (_lanes)
            {
                if (lane.Pending.TryDequeue(out var next))
                {
                    return next;
                }
            }

            var left = Linger - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || !await lane.Arrived.WaitAsync(left))
            {
                return null;
            }
        }
    }

    private sealed class Lane
    {
        public Queue<Request> Pending { get; } = new();

        public SemaphoreSlim Arrived { get; } = new(0);

        public bool Running { get; set; }

        /// <summary>The shape of the last address accepted on this domain (while the lane lives).</summary>
        public string? AcceptedShape { get; set; }
    }

    private sealed record Request(MailRouting.Hosts Routing, string? Probe, IReadOnlyList<Recipient> Recipients, CancellationToken Cancellation)
    {
        public TaskCompletionSource<PersonProbeResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
