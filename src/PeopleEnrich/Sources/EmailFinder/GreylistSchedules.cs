using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// One greylisting retry schedule per domain, shared by its people: the times of <see cref="SmtpOptions.GreylistSchedule"/>
/// count from the moment the domain first deferred us, so that everyone deferred there comes back in the same round
/// (one session, the probe asked once for all) instead of each on a clock of their own. Past the schedule's last time,
/// rounds follow at its last gap. A domain nobody was deferred at for two of its longest gaps starts afresh.
/// </summary>
public sealed class GreylistSchedules(IOptions<SmtpOptions> options, TimeProvider time)
{
    private readonly Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DateTimeOffset> _answering = new(StringComparer.OrdinalIgnoreCase);

    // When each recipient was first deferred (planted), and each domain's delay as its probe showed it: a recipient planted
    // later than the probe passes that much later, whatever the schedule's steps.
    private readonly Dictionary<string, DateTimeOffset> _planted = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, TimeSpan> _delays = new(StringComparer.OrdinalIgnoreCase);
    private const int MaxPlanted = 100_000;

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
            if (_planted.Count >= MaxPlanted)
            {
                var stale = time.GetUtcNow() - TimeSpan.FromHours(1);
                foreach (var old in _planted.Where(p => p.Value < stale).Select(p => p.Key).ToList())
                {
                    _planted.Remove(old);
                }

                if (_planted.Count >= MaxPlanted)
                {
                    _planted.Clear();
                }
            }

            foreach (var deferred in recipients.Append(probe).OfType<RcptObservation>().Where(r => r.Outcome == RcptOutcome.Temporary))
            {
                _planted.TryAdd(deferred.Address, deferred.At);
            }

            foreach (var answered in recipients.Append(probe).OfType<RcptObservation>().Where(r => r.Outcome is RcptOutcome.Accepted or RcptOutcome.Rejected))
            {
                if (_planted.TryGetValue(answered.Address, out var planted) && answered.At > planted)
                {
                    var delay = answered.At - planted;
                    _delays[domain] = _delays.TryGetValue(domain, out var known) && known < delay ? known : delay;
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

            var passes = recipients.Select(r => _planted.TryGetValue(r, out var at) ? at + delay : (DateTimeOffset?)null).ToList();
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

    /// <summary>Which of these addresses the domain's server deferred before (planted, in this process): asking one again costs one RCPT, not two.</summary>
    public IReadOnlySet<string> PlantedAmong(IEnumerable<string> addresses)
    {
        lock (_domains)
        {
            return addresses.Where(_planted.ContainsKey).ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
    }

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
        var longestGap = schedule.Select((at, i) => i == 0 ? at : at - schedule[i - 1]).Max();
        lock (_domains)
        {
            var first = _domains.TryGetValue(domain, out var seen) && now - seen.Last <= 2 * longestGap ? seen.First : now;
            _domains[domain] = (first, now);
            if (_domains.Count > 10_000)
            {
                foreach (var stale in _domains.Where(d => now - d.Value.Last > 2 * longestGap).Select(d => d.Key).ToList())
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
        var gap = schedule.Count > 1 ? last - schedule[^2] : last;
        var rounds = Math.Floor((elapsed + slack - last) / gap) + 1;
        return last + rounds * gap - elapsed;
    }
}
