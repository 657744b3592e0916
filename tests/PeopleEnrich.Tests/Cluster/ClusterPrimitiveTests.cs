using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Cluster;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Cluster;

/// <summary>
/// The limits processes keep together through the database, each "process" here with a connection pool and an
/// identity of its own on one real database, and a clock the test moves: claims with a heartbeat, pacing, budgets.
/// </summary>
public abstract class ClusterPrimitiveTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly List<Database> _processes = [];
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TProvider.Name);
        await new Migrator(Process(), _clock, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_slots_of_a_limit_are_shared_by_processes_and_a_released_one_is_free_again()
    {
        var (first, second) = (Leases(), Leases());

        var a = await first.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None);
        var b = await second.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None);
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.NotEqual(a.Slot, b.Slot);
        Assert.Null(await first.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None));
        Assert.Null(await second.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None));
        // Another limit's slots are its own.
        Assert.NotNull(await first.TryAcquireAsync("smtp-host:mx.other.test", 2, CancellationToken.None));

        await b.DisposeAsync();
        var again = await first.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None);
        Assert.Equal(b.Slot, again?.Slot);
    }

    [Fact]
    public async Task A_dead_process_claims_run_out_after_the_ttl_while_a_living_one_keeps_its_own_by_its_heartbeat()
    {
        var (living, dead, newcomer) = (Leases(), Leases(), Leases());
        Assert.NotNull(await living.TryAcquireAsync("smtp-domain:acme.test", 1, CancellationToken.None));
        Assert.NotNull(await dead.TryAcquireAsync("smtp-domain:other.test", 1, CancellationToken.None));

        // Two heartbeats of the living process; the dead one renews nothing.
        for (var beat = 0; beat < 2; beat++)
        {
            _clock.Advance(Ttl / 2);
            await living.RenewAsync(CancellationToken.None);
        }

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await newcomer.TryAcquireAsync("smtp-domain:acme.test", 1, CancellationToken.None));
        Assert.NotNull(await newcomer.TryAcquireAsync("smtp-domain:other.test", 1, CancellationToken.None));
    }

    [Fact]
    public async Task A_process_started_again_under_its_name_releases_its_previous_life_s_claims_at_once_and_nobody_else_s()
    {
        var (previousLife, other) = (Leases(), Leases());
        await previousLife.JoinAsAsync("worker-a", CancellationToken.None);
        await other.JoinAsAsync("worker-b", CancellationToken.None);
        Assert.NotNull(await previousLife.TryAcquireAsync("smtp-domain:acme.test", 1, CancellationToken.None));
        Assert.NotNull(await previousLife.TryAcquireAsync("smtp-host:mx.acme.test", 2, CancellationToken.None));
        Assert.NotNull(await other.TryAcquireAsync("smtp-domain:other.test", 1, CancellationToken.None));

        // The previous life dies; the next starts a second later, long before the dead one's claims would run out.
        _clock.Advance(TimeSpan.FromSeconds(1));
        var nextLife = Leases();
        Assert.Equal(2, await nextLife.JoinAsAsync("worker-a", CancellationToken.None));

        Assert.NotNull(await nextLife.TryAcquireAsync("smtp-domain:acme.test", 1, CancellationToken.None));
        Assert.Null(await nextLife.TryAcquireAsync("smtp-domain:other.test", 1, CancellationToken.None));
        // Its own new claims carry the name, and a later life releases those.
        Assert.Equal(1, await Leases().JoinAsAsync("worker-a", CancellationToken.None));
    }

    [Fact]
    public async Task Taking_over_a_dead_member_s_items_releases_its_claims_but_a_living_member_keeps_its_own()
    {
        var (dead, living, taker) = (Leases(), Leases(), Leases());
        await dead.JoinAsAsync("worker-dead", CancellationToken.None);
        await living.JoinAsAsync("worker-living", CancellationToken.None);
        await taker.JoinAsAsync("worker-taker", CancellationToken.None);
        Assert.NotNull(await dead.TryAcquireAsync("smtp-domain:dead.test", 1, CancellationToken.None));
        Assert.NotNull(await living.TryAcquireAsync("smtp-domain:living.test", 1, CancellationToken.None));
        // Just claimed: its holder may well live, whatever became of its items.
        Assert.Equal(0, await taker.ReleaseClaimsOfDeadAsync("worker-dead", CancellationToken.None));

        // Two heartbeats of the living process; the dead one renews nothing, and its claims are not yet out.
        for (var beat = 0; beat < 2; beat++)
        {
            _clock.Advance(Ttl / 3);
            await living.RenewAsync(CancellationToken.None);
        }

        Assert.Equal(1, await taker.ReleaseClaimsOfDeadAsync("worker-dead", CancellationToken.None));
        Assert.Equal(0, await taker.ReleaseClaimsOfDeadAsync("worker-living", CancellationToken.None));
        Assert.NotNull(await taker.TryAcquireAsync("smtp-domain:dead.test", 1, CancellationToken.None));
        Assert.Null(await taker.TryAcquireAsync("smtp-domain:living.test", 1, CancellationToken.None));
    }

    [Fact]
    public async Task Processes_claiming_at_once_get_no_more_slots_than_there_are()
    {
        var processes = new[] { Leases(), Leases(), Leases() };
        var attempts = Enumerable.Range(0, 24).Select(i => processes[i % 3].TryAcquireAsync("smtp-host:busy.test", 3, CancellationToken.None));

        var claims = (await Task.WhenAll(attempts)).OfType<ClusterLease>().ToList();

        Assert.Equal(3, claims.Count);
        Assert.Equal([0, 1, 2], claims.Select(c => c.Slot).Order());
    }

    [Fact]
    public async Task A_waiter_of_this_process_gets_the_slot_as_soon_as_it_is_released_here()
    {
        var leases = Leases();
        var held = await leases.TryAcquireAsync("smtp-host:mx.acme.test", 1, CancellationToken.None);
        var waiting = leases.AcquireAsync("smtp-host:mx.acme.test", 1, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        await held!.DisposeAsync();

        Assert.Equal(0, (await waiting).Slot); // the fake clock never moved: the release woke it, not a poll
    }

    [Fact]
    public async Task Turns_are_spaced_by_the_interval_across_processes_after_the_burst()
    {
        var (first, second) = (new ClusterPacer(Process(), _clock), new ClusterPacer(Process(), _clock));
        var interval = TimeSpan.FromMilliseconds(100);

        var spaced = new[] { first, second, first, second };
        var waits = new List<TimeSpan?>();
        foreach (var pacer in spaced)
        {
            waits.Add(await pacer.TryReserveAsync("smtp-start:mx.acme.test", interval, burst: 1, CancellationToken.None));
        }

        Assert.Equal([0, 100, 200, 300], waits.Select(w => w!.Value.TotalMilliseconds));

        // A burst of two: two at once, then one an interval.
        var burst = new List<TimeSpan?>();
        foreach (var pacer in spaced)
        {
            burst.Add(await pacer.TryReserveAsync("upstream:peer", interval, burst: 2, CancellationToken.None));
        }

        Assert.Equal([0, 0, 100, 200], burst.Select(w => w!.Value.TotalMilliseconds));
    }

    [Fact]
    public async Task A_turn_beyond_the_horizon_is_not_reserved_so_waiters_who_give_up_cost_nobody_their_turn()
    {
        var pacer = new ClusterPacer(Process(), _clock);
        var interval = TimeSpan.FromMilliseconds(100);
        var reserved = new List<TimeSpan?>();
        for (var i = 0; i < 13; i++)
        {
            reserved.Add(await pacer.TryReserveAsync("upstream:slow", interval, burst: 1, CancellationToken.None));
        }

        // Turns up to a second ahead (the horizon) are taken; the later ones are not, and leave nothing behind.
        Assert.Equal(11, reserved.Count(r => r is not null));
        Assert.Equal(TimeSpan.FromSeconds(1), reserved[10]);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), await pacer.TryReserveAsync("upstream:slow", interval, burst: 1, CancellationToken.None));
    }

    [Fact]
    public async Task Processes_reserving_at_once_each_get_a_turn_of_their_own()
    {
        var pacers = new[] { new ClusterPacer(Process(), _clock), new ClusterPacer(Process(), _clock), new ClusterPacer(Process(), _clock) };
        var interval = TimeSpan.FromMilliseconds(10);

        var waits = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => pacers[i % 3].TryReserveAsync("smtp-start:mx.busy.test", interval, 1, CancellationToken.None)));

        Assert.Equal(Enumerable.Range(0, 30).Select(i => i * 10.0), waits.Select(w => w!.Value.TotalMilliseconds).Order());
    }

    [Fact]
    public async Task A_budget_grants_no_more_than_its_limit_in_a_window_says_when_it_frees_and_a_check_spends_nothing()
    {
        var budget = new ClusterBudget(Process(), _clock);
        BudgetLimit[] limits = [new(3, TimeSpan.FromMinutes(1)), new(5, TimeSpan.FromDays(1))];

        Assert.True((await budget.CheckAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await budget.TryTakeAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);
            _clock.Advance(TimeSpan.FromSeconds(10));
        }

        var spent = await budget.TryTakeAsync("smtp-rcpt", limits, CancellationToken.None);
        Assert.False(spent.Taken);
        Assert.Equal(limits[0], spent.Limit);
        // The first unit went 30 s ago: it leaves the minute (counted whole seconds, so up to a second more) in 30 to 31 s.
        Assert.InRange(spent.RetryAfter, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(31));
        Assert.False((await budget.CheckAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);

        _clock.Advance(spent.RetryAfter);
        Assert.True((await budget.CheckAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);
        Assert.True((await budget.TryTakeAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);

        // A minute later the minute has room again, but the day does not: 5 were spent today.
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await budget.TryTakeAsync("smtp-rcpt", limits, CancellationToken.None)).Taken);
        var day = await budget.TryTakeAsync("smtp-rcpt", limits, CancellationToken.None);
        Assert.False(day.Taken);
        Assert.Equal(limits[1], day.Limit);
        Assert.True(day.RetryAfter > TimeSpan.FromHours(23), $"the day frees in {day.RetryAfter}");
    }

    [Fact]
    public async Task Processes_spending_at_once_never_spend_more_than_the_budget()
    {
        var budgets = new[] { new ClusterBudget(Process(), _clock), new ClusterBudget(Process(), _clock), new ClusterBudget(Process(), _clock) };
        BudgetLimit[] limits = [new(10, TimeSpan.FromMinutes(1))];

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => budgets[i % 3].TryTakeAsync("smtp-rcpt", limits, CancellationToken.None)));

        Assert.Equal(10, answers.Count(a => a.Taken));
    }

    private ClusterLeases Leases() => new(Process(), _clock, Options.Create(new ClusterOptions { LeaseTtl = Ttl }), NullLogger<ClusterLeases>.Instance);

    /// <summary>A process of its own on the test's database: its own connections, and (for claims) its own identity.</summary>
    private Database Process()
    {
        var process = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(_database.Settings).Build());
        _processes.Add(process);
        return process;
    }
}

public sealed class SqliteClusterPrimitiveTests : ClusterPrimitiveTests<Sqlite>;

public sealed class PostgresClusterPrimitiveTests : ClusterPrimitiveTests<Postgres>;
