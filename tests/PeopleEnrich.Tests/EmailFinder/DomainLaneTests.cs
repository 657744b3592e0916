extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// The lane of a domain: its people share the sessions and one catch-all probe, and a long walk
/// through a cold domain's candidates is split over the sessions the host allows, never more.
/// </summary>
public abstract class DomainLaneTests<TProvider> where TProvider : IDatabaseProvider
{
    // "last" is the least common pattern the finder knows: the first person walks a dozen candidates,
    // slowly enough (80 ms a reply) that a second session has time to join.
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription
            {
                Name = "walk.test", Mx = [new MxDescription { Host = "mx.walk.test" }], ReplyDelayMs = 80,
                Mailboxes = ["hopper", "lovelace", "turing", "hamilton", "liskov"],
            },
        ],
    };

    private static readonly Dictionary<string, object>[] People =
    [
        Query("Grace", "Hopper", "walk.test", null, Emails),
        Query("Ada", "Lovelace", "walk.test", null, Emails),
        Query("Alan", "Turing", "walk.test", null, Emails),
        Query("Margaret", "Hamilton", "walk.test", null, Emails),
        Query("Barbara", "Liskov", "walk.test", null, Emails),
    ];

    [Fact]
    public async Task A_cold_walk_takes_a_second_session_and_the_host_never_sees_more_than_it_allows()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "2" });
        var account = await app.App.CreateAccountAsync();
        var results = await account.EnrichAsync(People);

        Assert.All(results, r => Assert.Equal("DELIVERABLE", Assert.Single(EmailsOf(r)).Status));
        var host = app.World.Host("mx.walk.test");
        Assert.True(host.Sessions >= 2, $"the walk should have been split over two sessions, saw {host.Sessions}");
        Assert.True(PeakConcurrentSessions(host) <= 2, $"at most 2 sessions at once, saw {PeakConcurrentSessions(host)}");
        // No catch-all probe: the first candidate's "no such mailbox" (the shape is "last", asked late) said the domain is not catch-all.
        Assert.Equal(0, ProbesAsked(host));
        Assert.Equal(0, app.World.DataAttempts);
    }

    [Fact]
    public async Task With_one_session_allowed_per_host_everyone_is_found_in_that_one()
    {
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "1" });
        var account = await app.App.CreateAccountAsync();
        var results = await account.EnrichAsync(People);

        Assert.All(results, r => Assert.Equal("DELIVERABLE", Assert.Single(EmailsOf(r)).Status));
        var host = app.World.Host("mx.walk.test");
        Assert.Equal(1, PeakConcurrentSessions(host));
        Assert.Equal(0, ProbesAsked(host));
        // Once one person's shape was accepted, the others were asked in it first: one RCPT each.
        var rcpts = host.Transcript.Rcpts.Count;
        var firstWalk = rcpts - (People.Length - 1);
        Assert.True(firstWalk >= 2, $"the first person should have walked several candidates (RCPTs: {rcpts})");
    }

    /// <summary>
    /// A cold domain (first.last) where one of five people has no mailbox: whoever of them is asked first, the person without
    /// one is not walked through every candidate while the others have yet to be asked the likeliest shape; once the others'
    /// addresses establish the pattern, the rest of that person's list is not asked at all.
    /// </summary>
    [Fact]
    public async Task At_a_cold_domain_a_person_without_a_mailbox_gives_way_to_the_others_before_walking_deep()
    {
        var world = new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = "cold.test", Mx = [new MxDescription { Host = "mx.cold.test" }],
                    Mailboxes = ["grace.hopper", "ada.lovelace", "alan.turing", "barbara.liskov"],
                },
            ],
        };
        await using var app = await WorldApp.StartAsync(TProvider.Name, world, new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "1" });
        var account = await app.App.CreateAccountAsync();
        var results = await account.EnrichAsync(
        [
            Query("Edsger", "Dijkstra", "cold.test", null, Emails), Query("Grace", "Hopper", "cold.test", null, Emails),
            Query("Ada", "Lovelace", "cold.test", null, Emails), Query("Alan", "Turing", "cold.test", null, Emails),
            Query("Barbara", "Liskov", "cold.test", null, Emails),
        ]);

        Assert.All(results.Skip(1), r => Assert.Equal("DELIVERABLE", Assert.Single(EmailsOf(r)).Status));
        Assert.DoesNotContain(EmailsOf(results[0]), e => e.Status == "DELIVERABLE");
        var host = app.World.Host("mx.cold.test");
        var askedForDijkstra = host.Transcript.Lines.Count(l =>
            l.Direction == Direction.Received && l.Text.StartsWith("RCPT", StringComparison.Ordinal) && l.Text.Contains('d', StringComparison.Ordinal)
            && (l.Text.Contains("dijkstra", StringComparison.Ordinal) || l.Text.Contains("edsger", StringComparison.Ordinal)));
        // Walking the whole list would cost Smtp:MaxCandidates (15); the likeliest shapes, then the established one, a few.
        Assert.InRange(askedForDijkstra, 1, 4);
        Assert.Equal(0, app.World.DataAttempts);
    }

    /// <summary>The catch-all probes a host was asked: the random recipients ("x" and a long run of random letters).</summary>
    internal static int ProbesAsked(MailHost host) =>
        host.Transcript.Lines.Count(l => l.Direction == Direction.Received && l.Text.StartsWith("RCPT TO:<x", StringComparison.Ordinal) && l.Text.Length > "RCPT TO:<x".Length + 15);

    /// <summary>The most sessions open at once, from the transcript: each session spans its first line to its last.</summary>
    private static int PeakConcurrentSessions(MailHost host)
    {
        var events = host.Transcript.Lines.GroupBy(l => l.Session)
            .SelectMany(s => new[] { (At: s.Min(l => l.At), Delta: 1), (At: s.Max(l => l.At), Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta);
        int open = 0, peak = 0;
        foreach (var e in events)
        {
            open += e.Delta;
            peak = Math.Max(peak, open);
        }

        return peak;
    }
}

public sealed class SqliteDomainLaneTests : DomainLaneTests<Sqlite>;

public sealed class PostgresDomainLaneTests : DomainLaneTests<Postgres>;
