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
