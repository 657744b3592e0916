using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// Which shapes the people of each greylisting domain planted in its current round (in this process): a person whose
/// likeliest candidate is in a shape someone else planted a moment ago plants another shape instead, so that one round
/// tries several shapes at once and the first acceptance teaches everyone the domain's (see <see cref="CandidateWalk"/>).
/// </summary>
/// <remarks>
/// A round's plantings are made within moments of each other (its people come back together, on the domain's one
/// schedule, though one told to wait for the rest of the round comes back a step later), and the next round's only once
/// the delay has passed; so a planting counts for the domain's delay once its answers showed it (else the schedule's first
/// step, <see cref="SmtpOptions.GreylistSchedule"/>), and is forgotten by the next round. The round's people may be
/// worked by several processes: <see cref="PlantingRound.PlantedElsewhere"/> adds what the others planted (read from the
/// database by <see cref="SharedGreylisting"/>).
/// </remarks>
public sealed class DomainPlantings(IOptions<SmtpOptions> options, GreylistSchedules greylisting, TimeProvider time)
{
    private const int MaxDomains = 10_000;

    private readonly Dictionary<string, PlantingRound> _domains = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The domain's current round, for one person's walk.</summary>
    public PlantingRound Of(string domain)
    {
        lock (_domains)
        {
            if (!_domains.TryGetValue(domain, out var round))
            {
                if (_domains.Count >= MaxDomains)
                {
                    foreach (var idle in _domains.Where(d => d.Value.IsOver).Select(d => d.Key).ToList())
                    {
                        _domains.Remove(idle);
                    }
                }

                round = new PlantingRound(() => LastsAt(domain), time);
                _domains[domain] = round;
            }

            return round;
        }
    }

    /// <summary>How long a planting at the domain counts for its round: the domain's delay once its answers showed it, else the schedule's first step.</summary>
    public TimeSpan LastsAt(string domain) => Max(options.Value.GreylistSchedule[0], greylisting.DelayOf(domain) ?? TimeSpan.Zero);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>The shapes planted at one domain in its current round, and by how many people.</summary>
public sealed class PlantingRound(Func<TimeSpan> lasts, TimeProvider time)
{
    private readonly List<(string Shape, DateTimeOffset At)> _planted = [];
    private List<(string Shape, DateTimeOffset At)> _elsewhere = [];

    internal bool IsOver
    {
        get
        {
            lock (_planted)
            {
                Forget();
                return _planted.Count == 0 && _elsewhere.Count == 0;
            }
        }
    }

    /// <summary>Someone of the domain planted a candidate in this shape (the server deferred it) just now.</summary>
    public void Planted(string shape)
    {
        lock (_planted)
        {
            Forget();
            _planted.Add((shape, time.GetUtcNow()));
        }
    }

    /// <summary>What the other processes' people of the domain planted lately (each recipient at its latest deferral): it replaces what they were known to have planted before.</summary>
    public void PlantedElsewhere(IEnumerable<(string Shape, DateTimeOffset At)> plantings)
    {
        lock (_planted)
        {
            _elsewhere = plantings.ToList();
            Forget();
        }
    }

    /// <summary>How many people of the domain planted a candidate in this shape this round (in any process, as far as this one knows).</summary>
    public int Count(string shape)
    {
        lock (_planted)
        {
            Forget();
            return _planted.Count(p => p.Shape == shape) + _elsewhere.Count(p => p.Shape == shape);
        }
    }

    private void Forget()
    {
        var since = time.GetUtcNow() - lasts();
        _planted.RemoveAll(p => p.At <= since);
        _elsewhere.RemoveAll(p => p.At <= since);
    }
}
