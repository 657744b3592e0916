extern alias SimulatedWorld;

using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Smtp;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// A domain has one lane in the cluster: a second process's people of a cold domain wait while the first process's lane
/// walks it. Each "process" here is a service set of its own (the finder, its lanes, leases and connections) on one real
/// database, against one simulated world, on the real clock: what the first lane heard of the domain's shape reaches the
/// person who waited, who is then asked the shape found, not the likeliest shapes from scratch.
/// </summary>
public abstract class LaneHandoverTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private const string Domain = "acme.test";
    private const string Host = "mx.acme.test";

    // last.first, a rare shape (the eighth likeliest): a walk from scratch asks most of the others first.
    private static readonly (string First, string Last)[] FirstProcess = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing")];
    private static readonly (string First, string Last) Waiting = ("Barbara", "Liskov");

    private readonly List<ServiceProvider> _processes = [];
    private TestDatabase _database = null!;
    private World _world = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TProvider.Name);
        // 100 ms a reply: the first process's lane holds the domain for a second or more, long enough for the second's person to arrive.
        _world = await World.StartAsync(new WorldDescription
        {
            Domains =
            [
                new DomainDescription
                {
                    Name = Domain, Mx = [new MxDescription { Host = Host }], ReplyDelayMs = 100,
                    Mailboxes = [.. FirstProcess.Append(Waiting).Select(p => $"{p.Last}.{p.First}".ToLowerInvariant())],
                },
            ],
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _world.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_person_who_waited_for_another_processs_lane_is_asked_the_shape_it_found()
    {
        var (first, second) = (await ProcessAsync(), await ProcessAsync());

        var walked = FirstProcess.Select(p => FindAsync(first, p)).ToList();
        await LaneHeldAsync();
        var waited = await FindAsync(second, Waiting);
        await Task.WhenAll(walked);

        Assert.Contains(waited.Emails, e => e is { Address: "liskov.barbara@acme.test", Observation: EmailObservation.MailboxAccepted });
        // Barbara was asked after the first lane's last RCPT (she waited for it), and only her address in the shape it found.
        var rcpts = Rcpts();
        Assert.True(rcpts.Where(r => !IsOf(r.Text, Waiting)).Max(r => r.At) < rcpts.Where(r => IsOf(r.Text, Waiting)).Min(r => r.At), string.Join("\n", rcpts));
        Assert.Equal(["RCPT TO:<liskov.barbara@acme.test>"], rcpts.Where(r => IsOf(r.Text, Waiting)).Select(r => r.Text));
        Assert.Equal(0, _world.DataAttempts);
    }

    [Fact]
    public async Task A_process_takes_over_nothing_from_its_own_lanes_and_another_only_what_was_handed_over_since_its_lanes_first_person_arrived()
    {
        var (first, second) = (await ProcessAsync(), await ProcessAsync());
        await Task.WhenAll(FirstProcess.Select(p => FindAsync(first, p)));
        var before = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);

        // The lane's end (a moment after its last person's answer) writes what it heard; another process reads it, if it waited since.
        var heard = await HandedOverAsync(second, before);
        Assert.Null(await first.GetRequiredService<ILaneHandover>().TakeOverAsync(Domain, before, CancellationToken.None));
        Assert.Equal("LastDotFirst", heard.LastFoundTag);
        Assert.Equal(3, heard.FoundByTag["LastDotFirst"]);
        Assert.True(heard.RejectedByTag["FirstDotLast"] >= 1);
        Assert.Null(await second.GetRequiredService<ILaneHandover>().TakeOverAsync(Domain, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    private static Task<SourceFindings> FindAsync(ServiceProvider process, (string First, string Last) person) =>
        FinderProcess.FindAsync(process, person.First, person.Last, Domain);

    /// <summary>What the domain's lane handed over, as <paramref name="process"/> reads it, once it has (the lane ends a moment after its last answer).</summary>
    private static async Task<LaneTags> HandedOverAsync(ServiceProvider process, DateTimeOffset waitingSince)
    {
        var handover = process.GetRequiredService<ILaneHandover>();
        for (var tries = 0; ; tries++)
        {
            if (await handover.TakeOverAsync(Domain, waitingSince, CancellationToken.None) is { } heard)
            {
                return heard;
            }

            Assert.True(tries < 1000, "the lane never handed over what it heard");
            await Task.Delay(10);
        }
    }

    /// <summary>Until the first process's lane has opened its session at the domain's host (it holds the domain's claim by then).</summary>
    private async Task LaneHeldAsync()
    {
        while (_world.Host(Host).Transcript.Lines.Count == 0)
        {
            await Task.Delay(10);
        }
    }

    private List<(DateTimeOffset At, string Text)> Rcpts() =>
        [.. _world.Host(Host).Transcript.Rcpts.Select(l => (l.At, l.Text))];

    private static bool IsOf(string rcpt, (string First, string Last) person) =>
        rcpt.Contains(person.Last, StringComparison.OrdinalIgnoreCase) || rcpt.Contains(person.First, StringComparison.OrdinalIgnoreCase);

    private async Task<ServiceProvider> ProcessAsync()
    {
        var process = await FinderProcess.StartAsync(_database, _world);
        _processes.Add(process);
        return process;
    }
}

public sealed class SqliteLaneHandoverTests : LaneHandoverTests<Sqlite>;

public sealed class PostgresLaneHandoverTests : LaneHandoverTests<Postgres>;
