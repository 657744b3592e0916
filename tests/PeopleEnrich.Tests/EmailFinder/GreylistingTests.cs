extern alias SimulatedWorld;

using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>The greylisting plan through the real API, against the simulated world's postgrey (a 2 s delay here).</summary>
public sealed class GreylistingTests
{
    internal const string Domain = "postgrey.test";

    internal static readonly (string First, string Last, bool Mailbox)[] People =
    [
        ("Ada", "Byron", true), ("Alan", "Turing", true), ("Grace", "Hopper", true), ("Edsger", "Dijkstra", true),
        ("Barbara", "Liskov", true), ("Donald", "Knuth", true), ("Ken", "Thompson", false), ("Dennis", "Ritchie", false),
    ];

    internal static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = Domain, Mx = [new MxDescription { Host = $"mx.{Domain}" }], Behaviour = Behaviour.Greylist, GreylistSeconds = 2,
                Mailboxes = People.Where(p => p.Mailbox).Select(p => LocalPart(p.First, p.Last)).ToList(),
            },
        ],
    };

    // The default schedule's 1, 3 and 6 minutes, as seconds: the first retry comes while postgrey still defers.
    internal static readonly Dictionary<string, string?> Schedule = new()
    {
        ["Smtp:GreylistRetryAfter:0"] = "00:00:01", ["Smtp:GreylistRetryAfter:1"] = "00:00:03", ["Smtp:GreylistRetryAfter:2"] = "00:00:06",
    };

    [Fact]
    public async Task The_first_session_plants_only_the_probe_and_each_persons_likeliest_candidate_and_everyone_is_answered()
    {
        await using var app = await WorldApp.StartAsync(Sqlite.Name, World, Schedule);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(People.Select(p => Query(p.First, p.Last, Domain)).ToArray());

        foreach (var ((first, last, mailbox), result) in People.Zip(results))
        {
            Assert.Equal(mailbox ? [($"{LocalPart(first, last)}@{Domain}", "DELIVERABLE")] : [], EmailsOf(result));
            Assert.Null(result["error"]);
        }

        // Until postgrey let anything through, only what will be needed was asked: one probe for the domain, and each person's first.last.
        var asked = RcptsWithReplies(app.World.Host($"mx.{Domain}"));
        var passed = asked.First(r => !r.Reply.StartsWith("450", StringComparison.Ordinal)).At;
        var planted = asked.Where(r => r.At < passed).Select(r => r.Address).Distinct().ToList();
        var likeliest = People.Select(p => $"{LocalPart(p.First, p.Last)}@{Domain}").ToList();
        Assert.Subset(planted.ToHashSet(), likeliest.ToHashSet());
        Assert.Single(planted.Except(likeliest));
        // The people found needed nothing else; the pattern they established bounded what the two without a mailbox were
        // asked besides: the domain has no exception shape, so only the guesses allowed.
        var guesses = new Verification.Smtp.SmtpOptions().GuessesWhenEstablished;
        Assert.Equal(planted.Count + 2 * guesses, asked.Select(r => r.Address).Distinct().Count());
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task A_full_mailbox_answered_while_the_probe_is_greylisted_waits_for_the_probes_round_and_is_not_said_kept_deferring()
    {
        // The server checks quotas before greylisting: Jane's full mailbox is said at once, while the made-up probe is
        // deferred. Her "full" means something only once the probe is rejected, which greylisting's next round brings.
        var full = World with { Domains = [World.Domains[0] with { Mailboxes = ["john.smith"], FullMailboxes = ["jane.doe"] }] };
        await using var app = await WorldApp.StartAsync(Sqlite.Name, full, Schedule);
        var account = await app.App.CreateAccountAsync();

        var result = (await account.EnrichAsync(Query("Jane", "Doe", Domain)))[0];

        var asked = RcptsWithReplies(app.World.Host($"mx.{Domain}"));
        Assert.Contains(asked, r => r.Address == $"jane.doe@{Domain}" && r.Reply.StartsWith("552", StringComparison.Ordinal));
        Assert.StartsWith($"Could not check: the mail server mx.{Domain} said the mailbox jane.doe@{Domain} is full", result["error"]?.GetValue<string>());
        Assert.Equal([($"jane.doe@{Domain}", "UNKNOWN")], EmailsOf(result));
    }

    [Fact]
    public async Task A_person_reaching_the_domain_a_moment_after_its_probe_was_deferred_plants_their_candidate_without_the_probe()
    {
        // The first retry 8 s on: a probe deferred less than a quarter of that ago (2 s) is still deferred, whatever the server.
        var schedule = new Dictionary<string, string?>
        {
            ["Smtp:GreylistRetryAfter:0"] = "00:00:08", ["Smtp:GreylistRetryAfter:1"] = "00:00:10", ["Smtp:GreylistRetryAfter:2"] = "00:00:12",
        };
        await using var app = await WorldApp.StartAsync(Sqlite.Name, World, schedule);
        var account = await app.App.CreateAccountAsync();
        var host = app.World.Host($"mx.{Domain}");

        var ada = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Ada", "Byron", Domain) } });
        // Ada's lane planted her first.last and the probe, then closed: Alan, a moment later, reaches the domain in a new lane.
        await WhenIdleAsync(host, rcpts: 2);
        await Task.Delay(200);
        var alan = await account.SubmitAcceptedAsync(new { requests = new[] { Query("Alan", "Turing", Domain) } });
        var results = new[] { await account.WaitForCompletionAsync(ada), await account.WaitForCompletionAsync(alan) }.Select(b => b["results"]![0]!).ToList();

        Assert.Equal([($"ada.byron@{Domain}", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([($"alan.turing@{Domain}", "DELIVERABLE")], EmailsOf(results[1]));
        await WhenIdleAsync(host); // its last reply written to the transcript
        var asked = RcptsWithReplies(host);
        var passed = asked.First(r => !r.Reply.StartsWith("450", StringComparison.Ordinal)).At;
        var firstRound = asked.Where(r => r.At < passed).ToList();
        var probe = firstRound.Single(r => !r.Address.StartsWith("ada.", StringComparison.Ordinal) && !r.Address.StartsWith("alan.", StringComparison.Ordinal));
        var alans = firstRound.Single(r => r.Address == $"alan.turing@{Domain}");
        Assert.True(alans.At - probe.At < TimeSpan.FromSeconds(2), $"Alan reached the domain {alans.At - probe.At} after the probe: not within its round");
    }

    private static async Task WhenIdleAsync(MailHost host, int rcpts = 0)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (!(host.ActiveSessions == 0 && host.Transcript.Rcpts.Count >= rcpts) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    internal static string LocalPart(string first, string last) => $"{first}.{last}".ToLowerInvariant();

    /// <summary>Each RCPT TO the host received, with when and the reply it got (the next line the host sent in that session).</summary>
    internal static List<(string Address, string Reply, DateTimeOffset At)> RcptsWithReplies(MailHost host)
    {
        var asked = new List<(string, string, DateTimeOffset)>();
        foreach (var session in host.Transcript.Sessions)
        {
            var lines = host.Transcript.Session(session);
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i].Direction == Direction.Received && lines[i].Text.StartsWith("RCPT TO:<", StringComparison.OrdinalIgnoreCase))
                {
                    var reply = lines.Skip(i + 1).First(l => l.Direction == Direction.Sent);
                    asked.Add((lines[i].Text["RCPT TO:<".Length..].TrimEnd('>').ToLowerInvariant(), reply.Text, lines[i].At));
                }
            }
        }

        return asked.OrderBy(a => a.Item3).ToList();
    }
}

/// <summary>What is planted once the greylisting delay has passed, at a domain whose shape is not first.last.</summary>
public abstract class GreylistPlantingTests<TProvider> where TProvider : IDatabaseProvider
{
    private const string Domain = GreylistingTests.Domain;

    private static readonly (string First, string Last, bool Mailbox)[] People = GreylistingTests.People;

    [Fact]
    public async Task At_a_domain_of_another_shape_people_plant_one_new_candidate_a_round_spread_over_shapes_and_everyone_is_answered()
    {
        var flast = GreylistingTests.World with { Domains = [GreylistingTests.World.Domains[0] with { Mailboxes = People.Where(p => p.Mailbox).Select(p => FLast(p.First, p.Last)).ToList() }] };
        await using var app = await WorldApp.StartAsync(TProvider.Name, flast, GreylistingTests.Schedule);
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(People.Select(p => Query(p.First, p.Last, Domain)).ToArray());

        var asked = GreylistingTests.RcptsWithReplies(app.World.Host($"mx.{Domain}"));
        foreach (var ((first, last, mailbox), result) in People.Zip(results))
        {
            var address = $"{FLast(first, last)}@{Domain}";
            if (mailbox)
            {
                Assert.Equal([(address, "DELIVERABLE")], EmailsOf(result));
                Assert.Null(result["error"]);
            }
            else
            {
                // Nothing found is an answer only when their address in the domain's shape was asked and rejected; else the error says why.
                Assert.Empty(EmailsOf(result));
                Assert.True(result["error"] is not null || asked.Any(r => r.Address == address && r.Reply.StartsWith('5')), $"{first} {last}: {result.ToJsonString()}");
            }
        }

        // Planting every candidate once first.last was rejected costs each person's candidates twice (deferred, then asked
        // again): one new candidate a round, spread over shapes until one is accepted, costs less than half of that.
        var plantingEverything = 2 * new Verification.Smtp.SmtpOptions().MaxCandidates * People.Length;
        Assert.True(asked.Count < plantingEverything / 2, $"{asked.Count} RCPT for {People.Length} people: {string.Join(", ", asked.Select(r => r.Address))}");
        Assert.Equal(0, app.World.DataAttempts);
    }

    private static string FLast(string first, string last) => $"{first[0]}{last}".ToLowerInvariant();
}

public sealed class SqliteGreylistPlantingTests : GreylistPlantingTests<Sqlite>;

public sealed class PostgresGreylistPlantingTests : GreylistPlantingTests<Postgres>;
