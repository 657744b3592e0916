using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// A robots.txt (RFC 9309) read for one product token: the groups naming it (case-insensitively), else
/// the "*" groups. The longest matching rule decides; on a tie, allow wins; "*" matches any run of
/// characters and a final "$" anchors the end.
/// </summary>
public sealed class RobotsTxt
{
    private readonly IReadOnlyList<Rule> _rules;

    private RobotsTxt(IReadOnlyList<Rule> rules) => _rules = rules;

    /// <summary>No robots.txt (4xx): everything may be fetched.</summary>
    public static RobotsTxt AllowAll { get; } = new([]);

    /// <summary>robots.txt unreachable (5xx, no answer): RFC 9309 §2.3.1.4 says assume nothing may be fetched.</summary>
    public static RobotsTxt DisallowAll { get; } = new([new Rule(false, "/", null)]);

    public static RobotsTxt Parse(string text, string productToken)
    {
        var groups = new List<(List<string> Agents, List<Rule> Rules)>();
        (List<string> Agents, List<Rule> Rules)? current = null;
        var lastWasAgent = false;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine;
            var comment = line.IndexOf('#');
            if (comment >= 0)
            {
                line = line[..comment];
            }

            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "user-agent":
                    if (current is null || !lastWasAgent)
                    {
                        current = ([], []);
                        groups.Add(current.Value);
                    }

                    current.Value.Agents.Add(value);
                    lastWasAgent = true;
                    break;
                case "allow" or "disallow" when current is not null:
                    lastWasAgent = false;
                    if (value.Length > 0)
                    {
                        current.Value.Rules.Add(new Rule(key == "allow", value, Pattern(value)));
                    }

                    break;
                default:
                    lastWasAgent = false; // sitemap, crawl-delay…: ours to ignore, but they end a run of user-agent lines
                    break;
            }
        }

        var ours = groups.Where(g => g.Agents.Any(a => a.Equals(productToken, StringComparison.OrdinalIgnoreCase))).ToList();
        if (ours.Count == 0)
        {
            ours = groups.Where(g => g.Agents.Contains("*")).ToList();
        }

        return new RobotsTxt(ours.SelectMany(g => g.Rules).ToList());
    }

    /// <summary>May this path (with its query, as sent) be fetched?</summary>
    public bool Allows(Uri url)
    {
        var path = url.PathAndQuery;
        Rule? best = null;
        foreach (var rule in _rules)
        {
            if (!rule.Matches(path))
            {
                continue;
            }

            if (best is null || rule.Path.Length > best.Path.Length || (rule.Path.Length == best.Path.Length && rule.Allow))
            {
                best = rule;
            }
        }

        return best?.Allow ?? true;
    }

    // Only rules with wildcards need a regular expression; the rest are prefixes.
    private static Regex? Pattern(string path)
    {
        if (!path.Contains('*') && !path.EndsWith('$'))
        {
            return null;
        }

        var anchored = path.EndsWith('$');
        var body = anchored ? path[..^1] : path;
        var pattern = new StringBuilder("^");
        foreach (var part in body.Split('*'))
        {
            pattern.Append(Regex.Escape(part)).Append(".*");
        }

        pattern.Length -= 2;
        if (anchored)
        {
            pattern.Append('$');
        }

        // Linear time whatever a hostile file holds ("*a*a*a…").
        return new Regex(pattern.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }

    private sealed record Rule(bool Allow, string Path, Regex? Wildcards)
    {
        public bool Matches(string path) => Wildcards?.IsMatch(path) ?? path.StartsWith(Path, StringComparison.Ordinal);
    }
}
