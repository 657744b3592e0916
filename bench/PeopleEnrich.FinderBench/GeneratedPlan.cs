using System.Globalization;
using PeopleEnrich.MailWorld;

namespace PeopleEnrich.FinderBench;

/// <summary>What --generated asks for: a world drawn by <see cref="WorldGenerator"/> with the behaviours of real mail software.</summary>
/// <param name="NoMailbox">The share of people with no mailbox (<see cref="WorldGeneratorOptions.PeopleWithoutMailbox"/>).</param>
/// <param name="PostgreySeconds">The greylisting delay of its postgrey domains (and of the greylisting batch's domain).</param>
internal sealed record GeneratedOptions(int Seed, int Domains, double NoMailbox, int PostgreySeconds)
{
    /// <summary>Patterns drawn with <see cref="WorldGenerator.RealisticPatternShares"/> (--realistic-patterns), not uniformly.</summary>
    public bool RealisticPatterns { get; init; }

    /// <summary>
    /// Batches of <see cref="GeneratedPlan.BatchSize"/> in the cold run, submitted at once (--cold-batches): with more people
    /// per domain, a domain's fixed costs (the catch-all probe, the first person's walk) are shared by more of them.
    /// </summary>
    public int ColdBatches { get; init; } = 1;
}

/// <summary>
/// A generated world as the bench's plan: every scenario of <see cref="WorldGenerator"/> with
/// <see cref="WorldGeneratorOptions.RealWorldBehaviours"/> (Postfix's error limits, a block-listed client, postgrey,
/// dead MX hosts) and its ground truth. The cold run is its first <see cref="GeneratedOptions.ColdBatches"/> × 100 people
/// (one at each domain first), the warm batch the next 100, at the same domains.
/// </summary>
internal static class GeneratedPlan
{
    public const int BatchSize = 100;

    public static WorldPlan Build(GeneratedOptions options)
    {
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions
        {
            Seed = options.Seed,
            DomainCount = options.Domains,
            PeopleCount = (options.ColdBatches + 1) * BatchSize,
            RealWorldBehaviours = true,
            PeopleWithoutMailbox = options.NoMailbox,
            PostgreySeconds = options.PostgreySeconds,
            // The older greylisting scenario at the same delay, so that one schedule fits both.
            GreylistSeconds = options.PostgreySeconds,
            TarpitMs = 3_000,
            PatternShares = options.RealisticPatterns ? WorldGenerator.RealisticPatternShares : null,
        });
        var domains = generated.Domains
            .Select(d => new PlannedDomain(d.Name, generated.Description.Domains.FirstOrDefault(x => x.Name == d.Name)?.Mx?.FirstOrDefault()?.Host ?? d.Name, d.Pattern, d.Scenario.ToString()))
            .ToList();
        var people = generated.People.Select(p => new PlannedPerson(p.FirstName, p.LastName, p.Domain, p.Address)).ToList();
        var description = generated.Description with { Domains = [.. generated.Description.Domains, WorldPlan.WarmUpDescription(replyDelayMs: 0)] };
        var cold = options.ColdBatches * BatchSize;
        return new WorldPlan(description, domains, people.Take(cold).ToList(), people.Skip(cold).ToList(), WorldPlan.WarmUpPerson);
    }
}

/// <summary>
/// A batch of 100 people at one greylisting domain (postgrey's behaviour, at the world's delay), a quarter of
/// them without a mailbox, the others' addresses in one pattern; asked cold, in one batch.
/// </summary>
internal static class GreylistBatch
{
    public const string Domain = "postgrey-batch.test";

    /// <summary>Its domain's <see cref="PlannedDomain.Scenario"/>.</summary>
    public const string ScenarioName = "GreylistBatch";

    public static WorldPlan AddTo(WorldPlan plan, int greylistSeconds, AddressPattern pattern, double noMailbox)
    {
        var people = new List<PlannedPerson>();
        var mailboxes = new List<string>();
        // Every pair of names is distinct and first and last names never meet (the lists are disjoint), so under
        // first.last no one's guess is someone else's mailbox; under other patterns a clash is skipped.
        var guessed = new HashSet<string>();
        var withoutMailbox = (int)Math.Round(GeneratedPlan.BatchSize * noMailbox);
        for (var i = 0; people.Count < GeneratedPlan.BatchSize; i++)
        {
            var first = WorldPlan.FirstNames[i % WorldPlan.FirstNames.Length];
            var last = WorldPlan.LastNames[(i / WorldPlan.FirstNames.Length + i * 7) % WorldPlan.LastNames.Length];
            var hasMailbox = people.Count % 4 != 0 || people.Count / 4 >= withoutMailbox;
            var guesses = AddressPatterns.All.Select(p => p.Apply(first, last)).ToList();
            var local = pattern.Apply(first, last);
            if (hasMailbox ? guessed.Contains(local) || mailboxes.Contains(local) : guesses.Any(mailboxes.Contains))
            {
                continue;
            }

            if (hasMailbox)
            {
                mailboxes.Add(local);
            }
            else
            {
                guessed.UnionWith(guesses);
            }

            people.Add(new PlannedPerson(WorldPlan.Capitalise(first), WorldPlan.Capitalise(last), Domain, hasMailbox ? $"{local}@{Domain}" : null));
        }

        var domain = new DomainDescription
        {
            Name = Domain,
            Mx = [new MxDescription { Preference = 10, Host = $"mx1.{Domain}" }],
            Behaviour = Behaviour.Greylist,
            GreylistSeconds = greylistSeconds,
            Mailboxes = mailboxes,
        };
        return plan with
        {
            Description = plan.Description with { Domains = [.. plan.Description.Domains, domain] },
            Domains = [.. plan.Domains, new PlannedDomain(Domain, $"mx1.{Domain}", pattern, ScenarioName)],
            Greylisted = people,
        };
    }

    /// <summary>"6,18,36" (seconds) as the server's Smtp:GreylistRetryAfter:N settings.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> ScheduleSettings(IReadOnlyList<int> seconds) =>
        seconds.Select((s, i) => new KeyValuePair<string, string?>(
            $"Smtp:GreylistRetryAfter:{i}", TimeSpan.FromSeconds(s).ToString("c", CultureInfo.InvariantCulture)));
}
