using System.Collections.Concurrent;

namespace PeopleEnrich.Knowledge;

/// <summary>
/// What this process last wrote of a fact, so that the same value is not written again and again
/// (every person of a domain observes the same routing, the same catch-all answer): a fact is rewritten
/// when it changes, or after <see cref="Refresh"/> so that its "verified at" moves on. Bounded; forgetting
/// only costs a rewrite.
/// </summary>
internal sealed class RecentWrites(TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromHours(1);
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<string, (string Value, DateTimeOffset At)> _written = new(StringComparer.OrdinalIgnoreCase);

    public bool IsFresh(string key, string value) =>
        _written.TryGetValue(key, out var last) && last.Value == value && time.GetUtcNow() - last.At < Refresh;

    public void Wrote(string key, string value)
    {
        if (_written.Count >= MaxRemembered)
        {
            _written.Clear();
        }

        _written[key] = (value, time.GetUtcNow());
    }
}
