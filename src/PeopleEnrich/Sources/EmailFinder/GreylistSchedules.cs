using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// One greylisting retry schedule per domain, shared by its people: the times of <see cref="SmtpOptions.GreylistSchedule"/>
/// count from the moment the domain first deferred us, so that everyone deferred there comes back in the same round
/// (one session, the probe asked once for all) instead of each on a clock of their own. Past the schedule's last time,
/// rounds follow at its last gap. A domain nobody was deferred at for two of its longest gaps starts afresh.
/// </summary>
/// <remarks>
/// This is each process's memory; on a database shared by several processes, <see cref="SharedGreylisting"/> writes what
/// it heard to the database and, for a person coming back to a greylisting domain, reads what the others heard into it
/// (<see cref="Merge"/>), since the person's retry may be claimed by any process.
/// </remarks>
public sealed class GreylistSchedules(IOptions<SmtpOptions> options, TimeProvider time)
{
    private readonly Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DateTimeOffset> _answering = new(StringComparer.OrdinalIgnoreCase);

    // When each recipient was first deferred (planted), and each domain's delay as its probe showed it: a recipient planted
    // later than the probe passes that much later, whatever the schedule's steps.
    private readonly Dictionary<string, DateTimeOffset> _planted = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, TimeSpan> _delays = new(StringComparer.OrdinalIgnoreCase);
    private const int MaxPlanted = 100_000;
    private DateTimeOffset _prunedAt = DateTimeOffset.MinValue;

    /// <summary>
    /// How long a planted recipient is remembered: an hour, or twice as long as a person's greylisting retries can take
    /// (<see cref="SmtpOptions.MaxGreylistRetries"/> rounds of the schedule) when that is longer. Past it no retry of its
    /// person is still coming, and the server itself may have forgotten the deferral.
    /// </summary>
    public TimeSpan KeptFor
    {
        get
        {
            var settings = options.Value;
            var schedule = settings.GreylistSchedule;
            var lastGap = LastGap(schedule);
            var retries = Math.Max(1, settings.MaxGreylistRetries);
            var reach = retries <= schedule.Count ? schedule[retries - 1] : schedule[^1] + (retries - schedule.Count) * lastGap;
            return 2 * reach > TimeSpan.FromHours(1) ? 2 * reach : TimeSpan.FromHours(1);
        }
    }

    /// <summary>A domain nobody was deferred at for this long (two of the schedule's longest gaps) starts its rounds afresh.</summary>
    public TimeSpan RoundsEndAfter => 2 * LongestGap(options.Value.GreylistSchedule);

    /// <summary>
    /// For a person whose candidate, planted a moment after the domain's probe, is still deferred when the probe no longer
    /// is: it passes within about as long as the people ahead of them took to plant theirs, so the schedule's first step
    /// (not the domain's next round, a whole step later) brings them back.
    /// </summary>
    public TimeSpan CatchUp => options.Value.GreylistSchedule[0];

    /// <summary>Whether this moment falls within the domain's current greylisting rounds (since it first deferred us).</summary>
    public bool SinceRoundBegan(string domain, DateTimeOffset at)
    {
        lock (_domains)
        {
            return _domains.TryGetValue(domain, out var seen) && at >= seen.First;
        }
    }

    /// <summary>
    /// What a person's session at the domain heard: each recipient deferred is planted (its first deferral kept), and one
    /// answered after being deferred bounds the domain's delay (at most the time between the two, since it was asked again
    /// only at a round; the least such time of the domain is kept).
    /// </summary>
    public void Heard(string domain, RcptObservation? probe, IEnumerable<RcptObservation> recipients)
    {
        lock (_domains)
        {
            ForgetOldPlantings();

            var now = time.GetUtcNow();
            foreach (var deferred in recipients.Append(probe).OfType<RcptObservation>().Where(r => r.Outcome == RcptOutcome.Temporary))
            {
                // The first deferral is kept, unless it is forgotten already (past KeptFor, not yet pruned): then this one is the first.
                if (PlantedAt(deferred.Address, now) is null)
                {
                    _planted[deferred.Address] = deferred.At;
                }
            }

            foreach (var answered in recipients.Append(probe).OfType<RcptObservation>().Where(r => r.Outcome is RcptOutcome.Accepted or RcptOutcome.Rejected))
            {
                if (PlantedAt(answered.Address, now) is { } planted && answered.At > planted)
                {
                    KeepLeastDelay(domain, answered.At - planted);
                }
            }
        }
    }

    /// <summary>
    /// How long from now until every one of these recipients (still deferred) has been planted for as long as the domain's
    /// delay; null when that is not known (the schedule then decides). A candidate planted after the probe, or in a later
    /// round (one a person a round, <see cref="SmtpOptions.GreylistPlantsPerRound"/>), passes that long after it was planted.
    /// </summary>
    public TimeSpan? WhenPlantedPasses(string domain, IEnumerable<string> recipients)
    {
        var now = time.GetUtcNow();
        lock (_domains)
        {
            if (!_delays.TryGetValue(domain, out var delay))
            {
                return null;
            }

            var passes = recipients.Select(r => PlantedAt(r, now) is { } at ? at + delay : (DateTimeOffset?)null).ToList();
            if (passes.Count == 0 || passes.Any(p => p is null))
            {
                return null;
            }

            // A second of slack: the server's clock and ours count from slightly different moments.
            var wait = passes.Max()!.Value - now + TimeSpan.FromSeconds(1);
            return wait > TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1);
        }
    }

    /// <summary>The domain's greylisting delay as its answers showed it (at most the time a recipient waited between deferred and answered); null until one was answered.</summary>
    public TimeSpan? DelayOf(string domain)
    {
        lock (_domains)
        {
            return _delays.TryGetValue(domain, out var delay) ? delay : null;
        }
    }

    /// <summary>Which of these addresses the domain's server deferred before (planted, as this process knows), within <see cref="KeptFor"/>: asking one again costs one RCPT, not two.</summary>
    public IReadOnlySet<string> PlantedAmong(IEnumerable<string> addresses)
    {
        var now = time.GetUtcNow();
        lock (_domains)
        {
            return addresses.Where(a => PlantedAt(a, now) is not null).ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
    }

    /// <summary>Forgets these recipients (an erased person's addresses): they are not taken as planted again.</summary>
    public void Forget(IEnumerable<string> addresses)
    {
        lock (_domains)
        {
            foreach (var address in addresses)
            {
                _planted.Remove(address);
            }
        }
    }

    /// <summary>When the recipient was first deferred, unless that is older than <see cref="KeptFor"/> (forgotten, even before the next clean-up).</summary>
    private DateTimeOffset? PlantedAt(string address, DateTimeOffset now) =>
        _planted.TryGetValue(address, out var at) && now - at <= KeptFor ? at : null;

    /// <summary>A person coming back to the domain was answered: its delay has passed (the first such moment of its rounds is kept).</summary>
    public void Answering(string domain)
    {
        var now = time.GetUtcNow();
        lock (_domains)
        {
            var began = _domains.TryGetValue(domain, out var seen) ? seen.First : now;
            if (!_answering.TryGetValue(domain, out var since) || since < began)
            {
                _answering[domain] = now;
            }
        }
    }

    /// <summary>
    /// Whether the domain's people coming back are still being answered for the first time (no one was answered yet, or the
    /// first answer came less than half the schedule's first step ago): what their answers teach is not all in yet. Half, so
    /// that a person told to wait (<see cref="CatchUp"/>) is not told again when they come back.
    /// </summary>
    public bool RoundStillAnswering(string domain)
    {
        var now = time.GetUtcNow();
        lock (_domains)
        {
            var began = _domains.TryGetValue(domain, out var seen) ? seen.First : DateTimeOffset.MinValue;
            return !_answering.TryGetValue(domain, out var since) || since < began || now - since < CatchUp / 2;
        }
    }

    /// <summary>How long from now until the domain's next round, recording this deferral.</summary>
    public TimeSpan NextRetry(string domain)
    {
        var schedule = options.Value.GreylistSchedule;
        var now = time.GetUtcNow();
        var ended = RoundsEndAfter;
        lock (_domains)
        {
            var first = _domains.TryGetValue(domain, out var seen) && now - seen.Last <= ended ? seen.First : now;
            _domains[domain] = (first, now);
            if (_domains.Count > 10_000)
            {
                foreach (var stale in _domains.Where(d => now - d.Value.Last > ended).Select(d => d.Key).ToList())
                {
                    _domains.Remove(stale);
                    _answering.Remove(stale);
                    _delays.Remove(stale);
                }
            }

            return NextRound(schedule, now - first);
        }
    }

    /// <summary>
    /// What this process knows of the domain's rounds, to be shared: null when it knows of no rounds there. The recipients
    /// planted are <see cref="Heard"/>'s to share, as they are heard.
    /// </summary>
    public GreylistRound? RoundOf(string domain)
    {
        lock (_domains)
        {
            return _domains.TryGetValue(domain, out var seen)
                ? new GreylistRound(seen.First, seen.Last, _delays.TryGetValue(domain, out var delay) ? delay : null,
                    _answering.TryGetValue(domain, out var since) && since >= seen.First ? since : null)
                : null;
        }
    }

    /// <summary>
    /// What other processes heard at the domain, added to what this one knows, as if it had heard it itself: the earlier
    /// beginning of the same rounds (rounds that ended, by the rule of <see cref="NextRetry"/>, are not joined), the least
    /// delay, the first answer since the rounds began, and each recipient's first deferral.
    /// </summary>
    public void Merge(string domain, GreylistRound? round, IEnumerable<(string Address, DateTimeOffset PlantedAt)> planted)
    {
        var now = time.GetUtcNow();
        var ended = RoundsEndAfter;
        lock (_domains)
        {
            ForgetOldPlantings();
            foreach (var (address, at) in planted)
            {
                // A planting this process has forgotten (past KeptFor, not yet pruned) is no earlier first deferral.
                _planted[address] = PlantedAt(address, now) is { } known && known < at ? known : at;
            }

            if (round is null)
            {
                return;
            }

            if (round.Delay is { } delay)
            {
                KeepLeastDelay(domain, delay);
            }

            if (now - round.Last <= ended)
            {
                _domains[domain] = _domains.TryGetValue(domain, out var seen) && now - seen.Last <= ended
                    ? (seen.First < round.First ? seen.First : round.First, seen.Last > round.Last ? seen.Last : round.Last)
                    : (round.First, round.Last);
            }

            if (round.Answering is { } answered && _domains.TryGetValue(domain, out var rounds) && answered >= rounds.First
                && (!_answering.TryGetValue(domain, out var since) || since < rounds.First || answered < since))
            {
                _answering[domain] = answered;
            }
        }
    }

    /// <summary>Planted recipients older than <see cref="KeptFor"/> are forgotten (looked at every tenth of it), and all of them past <see cref="MaxPlanted"/>.</summary>
    private void ForgetOldPlantings()
    {
        var now = time.GetUtcNow();
        var keptFor = KeptFor;
        if (now - _prunedAt < keptFor / 10 && _planted.Count < MaxPlanted)
        {
            return;
        }

        _prunedAt = now;
        foreach (var old in _planted.Where(p => now - p.Value > keptFor).Select(p => p.Key).ToList())
        {
            _planted.Remove(old);
        }

        if (_planted.Count >= MaxPlanted)
        {
            _planted.Clear();
        }
    }

    /// <summary>A delay the domain's answers showed (an upper bound of it): the least such is kept. Under the lock.</summary>
    private void KeepLeastDelay(string domain, TimeSpan delay) =>
        _delays[domain] = _delays.TryGetValue(domain, out var known) && known < delay ? known : delay;

    /// <summary>The gap between the schedule's last two times, at which rounds follow past its last time (the one time, alone).</summary>
    private static TimeSpan LastGap(IReadOnlyList<TimeSpan> schedule) => schedule.Count > 1 ? schedule[^1] - schedule[^2] : schedule[^1];

    private static TimeSpan LongestGap(IReadOnlyList<TimeSpan> schedule) => schedule.Select((at, i) => i == 0 ? at : at - schedule[i - 1]).Max();

    /// <summary>
    /// The first of the schedule's times still ahead (a person of the round that just ended, coming back a moment after
    /// it, is not given it again: a quarter of the first step is the slack), then every last gap.
    /// </summary>
    internal static TimeSpan NextRound(IReadOnlyList<TimeSpan> schedule, TimeSpan elapsed)
    {
        var slack = schedule[0] / 4;
        foreach (var at in schedule)
        {
            if (at > elapsed + slack)
            {
                return at - elapsed;
            }
        }

        var last = schedule[^1];
        var gap = LastGap(schedule);
        var rounds = Math.Floor((elapsed + slack - last) / gap) + 1;
        return last + rounds * gap - elapsed;
    }
}

/// <summary>A greylisting domain's current rounds as one process knows them: when they began (its first deferral), its latest deferral, its delay and its first answer since they began.</summary>
public sealed record GreylistRound(DateTimeOffset First, DateTimeOffset Last, TimeSpan? Delay, DateTimeOffset? Answering);
