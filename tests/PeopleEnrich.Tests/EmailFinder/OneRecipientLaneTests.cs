extern alias SimulatedWorld;

using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// A lane at a Microsoft-365-like service (one recipient a session, 452 after it), whose limit the lane knows (learnt at
/// another domain of the service): every recipient needs a session of its own, opened in three slow replies, so a recipient
/// taken from the lane waits long enough for what another session hears to make it useless. Replies take 100 ms here, so
/// that the order of events is set by the number of replies each step needs, not by chance.
/// </summary>
public abstract class OneRecipientLaneTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription Description = new()
    {
        Domains =
        [
            Service("alpha.test", ["grace.hopper"]),
            // Ada's address is her second candidate (flast); Barbara's her first (first.last), as is Alan's.
            Service("beta.test", ["alovelace"]),
            Service("gamma.test", ["alan.turing", "barbara.liskov"]),
        ],
    };

    /// <summary>
    /// Ada's first candidate (ada.lovelace) is taken by the session that asked the probe, which must open a new session for it;
    /// meanwhile the lane's second session, already open, asks her second (alovelace), which is accepted. Her first is then
    /// dropped from the lane, not asked: the host sees the probe and alovelace only.
    /// </summary>
    [Fact]
    public async Task A_candidate_of_a_person_found_meanwhile_is_dropped_not_asked()
    {
        await using var world = await World.StartAsync(Description);
        var results = await EnrichAsync(world, [Query("Ada", "Lovelace", "beta.test", null, Emails)]);

        Assert.Equal([("alovelace@beta.test", "DELIVERABLE")], EmailsOf(results[0]));
        var asked = Rcpts(world.Host(HostOf("beta.test")));
        Assert.DoesNotContain(asked, a => a.StartsWith("ada.lovelace@", StringComparison.Ordinal));
        Assert.Equal(2, asked.Count); // the catch-all probe and alovelace
        Assert.Equal(0, world.DataAttempts);
    }

    /// <summary>
    /// Alan's first candidate (alan.turing) is taken first and waits for a session of its own; Barbara's (barbara.liskov) is
    /// accepted meanwhile in the second session, so first.last becomes the shape found at the domain while Alan's candidate in
    /// it is still in flight. His next candidate is not taken (nor a session opened for it) until that one is answered, and it
    /// is accepted: three RCPT in all (the probe, theirs), in three sessions (the probe's, Barbara's, Alan's).
    /// </summary>
    [Fact]
    public async Task A_person_s_next_candidate_waits_while_their_candidate_in_the_shape_found_is_in_flight()
    {
        await using var world = await World.StartAsync(Description);
        var results = await EnrichAsync(world, [Query("Alan", "Turing", "gamma.test", null, Emails), Query("Barbara", "Liskov", "gamma.test", null, Emails)]);

        Assert.Equal([("alan.turing@gamma.test", "DELIVERABLE")], EmailsOf(results[0]));
        Assert.Equal([("barbara.liskov@gamma.test", "DELIVERABLE")], EmailsOf(results[1]));
        var host = world.Host(HostOf("gamma.test"));
        var asked = Rcpts(host);
        Assert.Equal(3, asked.Count);
        Assert.Contains("alan.turing@gamma.test", asked);
        Assert.Contains("barbara.liskov@gamma.test", asked);
        Assert.Equal(3, host.Sessions);
        Assert.Equal(0, world.DataAttempts);
    }

    /// <summary>
    /// The service at the world: first a batch at another domain of the service, whose host says 452 to the second recipient
    /// of a session (the limit is learnt there), then <paramref name="people"/>. A lane goes on after its people are answered
    /// (a recipient it had taken may still be sent), so the answers are returned once the world's hosts are quiet.
    /// </summary>
    private static async Task<IReadOnlyList<System.Text.Json.Nodes.JsonNode>> EnrichAsync(
        World world, Dictionary<string, object>[] people)
    {
        // The probe first (as at a greylisting domain): these races are built on the probe taking the first session's one
        // recipient. With a candidate first, its "no such mailbox" or acceptance changes what is taken next, and when.
        var settings = new Dictionary<string, string?>(WorldApp.SettingsFor(world)) { ["Smtp:MaxSessionsPerHost"] = "2", ["Smtp:CandidateBeforeProbe"] = "false" };
        await using var app = await TestApp.StartAsync(TProvider.Name, settings);
        var account = await app.CreateAccountAsync();
        var learnt = await account.EnrichAsync([Query("Grace", "Hopper", "alpha.test", null, Emails)]);
        Assert.Equal([("grace.hopper@alpha.test", "DELIVERABLE")], EmailsOf(learnt[0]));
        Assert.Contains(world.Host(HostOf("alpha.test")).Transcript.Lines, l => l.Direction == Direction.Sent && l.Text.StartsWith("452", StringComparison.Ordinal));

        var results = await account.EnrichAsync(people);
        await QuietAsync(world);
        return results;
    }

    /// <summary>No session open at any host, and no line logged, for a second: longer than a lane lingers or takes to reopen.</summary>
    private static async Task QuietAsync(World world)
    {
        var last = -1;
        for (var look = 0; look < 60; look++)
        {
            var lines = world.Hosts.Sum(h => h.Transcript.Lines.Count);
            if (lines == last && world.Hosts.All(h => h.ActiveSessions == 0))
            {
                return;
            }

            last = lines;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        Assert.Fail("the world's mail hosts never went quiet");
    }

    private static DomainDescription Service(string domain, string[] mailboxes) => new()
    {
        Name = domain, Behaviour = Behaviour.M365, ReplyDelayMs = 100, Mailboxes = mailboxes,
        Mx = [new MxDescription { Host = HostOf(domain) }],
    };

    private static string HostOf(string domain) => $"{domain.Replace('.', '-')}.mail.protection.outlook.test";

    private static List<string> Rcpts(MailHost host) =>
        host.Transcript.Lines.Where(l => l.Direction == Direction.Received && l.Text.StartsWith("RCPT TO:<", StringComparison.Ordinal))
            .Select(l => l.Text["RCPT TO:<".Length..].TrimEnd('>'))
            .ToList();
}

public sealed class SqliteOneRecipientLaneTests : OneRecipientLaneTests<Sqlite>;

public sealed class PostgresOneRecipientLaneTests : OneRecipientLaneTests<Postgres>;
