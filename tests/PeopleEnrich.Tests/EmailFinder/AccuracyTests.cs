extern alias SimulatedWorld;

using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// The email finder on a generated world of 40 domains and 400 people mixing every behaviour,
/// through the real API, scored against the world's ground truth. Prints precision and find rate per
/// behaviour (dotnet test --logger "console;verbosity=detailed" shows them).
/// </summary>
public sealed class AccuracyTests
{
    private const int DirectoryPeoplePerCatchAllDomain = 2;

    [Fact]
    public async Task On_a_generated_world_every_verdict_is_the_one_the_ground_truth_allows()
    {
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions
        {
            Seed = 2026, DomainCount = 40, PeopleCount = 400, TarpitMs = 5_000, SlowReplyDelayMs = 30, GreylistSeconds = 1,
        });
        await using var app = await WorldApp.StartAsync(Sqlite.Name, generated.Description);
        var account = await app.App.CreateAccountAsync(credits: 10_000);

        // Catch-all domains can only be answered with evidence: two published addresses each, in the directory.
        var published = generated.People
            .Where(p => generated.Domain(p.Domain).Scenario == Scenario.CatchAll && p.Address is not null)
            .GroupBy(p => p.Domain).SelectMany(g => g.Take(DirectoryPeoplePerCatchAllDomain)).ToList();
        var csv = new StringBuilder("firstname,lastname,domain,email\n");
        published.ForEach(p => csv.Append($"{p.FirstName},{p.LastName},{p.Domain},{p.Address}\n"));
        await app.App.Service<DirectoryImporter>().ImportAsync(new StringReader(csv.ToString()), CancellationToken.None);
        var answers = new Dictionary<Person, JsonNode>();
        foreach (var (person, result) in published.Zip(await EnrichAllAsync(account, published)))
        {
            answers[person] = result;
        }

        var others = generated.People.Except(published).ToList();
        foreach (var (person, result) in others.Zip(await EnrichAllAsync(account, others)))
        {
            answers[person] = result;
        }

        var table = new StringBuilder("scenario            people  mailboxes  found-right  found-wrong  high-prob  catch-all  invalid  unknown  precision  find-rate\n");
        foreach (var scenario in generated.Domains.GroupBy(d => d.Scenario).OrderBy(g => g.Key))
        {
            var people = answers.Where(a => generated.Domain(a.Key.Domain).Scenario == scenario.Key).ToList();
            var best = people.Select(a => (a.Key, Best: BestOf(a.Value))).ToList();
            var right = best.Count(b => b.Best is { } e && e.Status is "DELIVERABLE" or "HIGH_PROBABILITY" && e.Email == b.Key.Address);
            var wrong = best.Count(b => b.Best is { } e && e.Status is "DELIVERABLE" or "HIGH_PROBABILITY" && e.Email != b.Key.Address);
            var mailboxes = people.Count(p => p.Key.Address is not null);
            var statuses = people.SelectMany(p => EmailsOf(p.Value)).GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.Count());
            table.Append($"{scenario.Key,-19} {people.Count,6} {mailboxes,10} {right,12} {wrong,12} {statuses.GetValueOrDefault("HIGH_PROBABILITY"),10} {statuses.GetValueOrDefault("CATCH_ALL"),10} {statuses.GetValueOrDefault("INVALID"),8} {statuses.GetValueOrDefault("UNKNOWN"),8} {Ratio(right, right + wrong),10} {Ratio(right, mailboxes),10}\n");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(table.ToString());
        Console.WriteLine(table.ToString());

        foreach (var (person, result) in answers)
        {
            var domain = generated.Domain(person.Domain);
            var emails = EmailsOf(result);
            var context = $"{person} at a {domain.Scenario} domain: {result.ToJsonString()}";
            if (domain.Verifiable)
            {
                // Not catch-all: every person with a mailbox is found DELIVERABLE, and no address is DELIVERABLE
                // unless its mailbox exists. (A namesake's mailbox does exist: "hedy@" belongs to the first Hedy, and
                // the second, "hedy2@", cannot be told from a name; those count as wrong in the table.)
                if (person.Address is not null && person.Address == domain.Pattern.Apply(Lower(person.FirstName), Lower(person.LastName)))
                {
                    Assert.True(emails.Contains((person.Address, "DELIVERABLE")), context);
                }

                Assert.DoesNotContain(emails, e => e.Status == "DELIVERABLE" && !generated.People.Any(p => p.Address == e.Email));
            }
            else if (domain.Scenario == Scenario.CatchAll && !published.Contains(person) && person.Address == domain.Pattern.Apply(Lower(person.FirstName), Lower(person.LastName)))
            {
                Assert.True(emails.SequenceEqual([(person.Address, "HIGH_PROBABILITY")]), context);
            }
            else if (!domain.AcceptsMail || domain.Scenario == Scenario.PrivateMx)
            {
                Assert.True(emails.Count == 0, context);
            }
            else if (domain.Scenario is Scenario.PolicyBlockConnect or Scenario.PolicyBlockMailFrom or Scenario.Tarpit)
            {
                Assert.True(emails.All(e => e.Status is not ("INVALID" or "DELIVERABLE")), context);
                // Refused or stalled: the answer says what could not be checked, never a silent "nothing found".
                Assert.True(result["error"]?.GetValue<string>()?.StartsWith("Could not check: ", StringComparison.Ordinal) == true, context);
            }
        }

        Assert.Equal(0, app.World.DataAttempts);
    }

    private static async Task<IReadOnlyList<JsonNode>> EnrichAllAsync(TestAccount account, IReadOnlyList<Person> people)
    {
        var results = new List<JsonNode>();
        foreach (var chunk in people.Chunk(100))
        {
            results.AddRange(await account.EnrichAsync(chunk.Select(p => Query(p.FirstName, p.LastName, p.Domain)).ToArray()));
        }

        return results;
    }

    private static (string Email, string Status)? BestOf(JsonNode result) =>
        result["most_probable_email"]?.GetValue<string>() is { } best ? EmailsOf(result).First(e => e.Email == best) : null;

    private static string Lower(string name) => name.ToLowerInvariant();

    private static string Ratio(int part, int whole) => whole == 0 ? "-" : $"{100.0 * part / whole:0.0}%";
}
