using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Privacy;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// What the finder learns at a greylisting domain, shared through one real database by "processes" that each have their
/// own memory (<see cref="GreylistSchedules"/>, <see cref="DomainPlantings"/>) and connections, on a clock the test moves:
/// a person deferred in one process may be claimed on their retry by another.
/// </summary>
public abstract class SharedGreylistingTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private const string Domain = "acme.test";
    private const string Probe = "xprobe0123456789@acme.test";

    private static readonly IOptions<SmtpOptions> Settings = Options.Create(new SmtpOptions());

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-03T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<Database> _databases = [];
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TProvider.Name);
        await new Migrator(Connect(), _clock, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_person_planted_in_one_process_and_retried_in_another_is_known_planted_and_comes_back_on_the_domains_one_schedule()
    {
        var (a, b) = (Process(), Process());
        var start = _clock.GetUtcNow();
        a.Hear(Deferred(Probe, start), Deferred("ann.lee@acme.test", start));
        Assert.Equal(TimeSpan.FromMinutes(1), a.Schedules.NextRetry(Domain));
        await a.SaveAsync(Deferred(Probe, start), Deferred("ann.lee@acme.test", start));

        _clock.Advance(TimeSpan.FromSeconds(20)); // another person of the domain, first deferred in B
        await b.Shared.LoadAsync(Domain, ["ann.lee@acme.test", "a.lee@acme.test"], CancellationToken.None);

        // Ann's first.last is asked again first (one RCPT), and the round is the domain's: 40 s on, not a minute.
        Assert.Equal(["ann.lee@acme.test"], b.Schedules.PlantedAmong(["ann.lee@acme.test", "a.lee@acme.test"]));
        Assert.Equal(TimeSpan.FromSeconds(40), b.Schedules.NextRetry(Domain));
        Assert.True(b.Schedules.SinceRoundBegan(Domain, start));
    }

    [Fact]
    public async Task The_domains_delay_and_its_first_answer_reach_every_process()
    {
        var (a, b) = (Process(), Process());
        var start = _clock.GetUtcNow();
        a.Hear(Deferred(Probe, start), Deferred("ann.lee@acme.test", start));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(Deferred(Probe, start), Deferred("ann.lee@acme.test", start));
        _clock.Advance(TimeSpan.FromSeconds(20)); // Bob's first.last, planted 20 s after the probe
        a.Hear(null, Deferred("bob.ray@acme.test", _clock.GetUtcNow()));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(null, Deferred("bob.ray@acme.test", _clock.GetUtcNow()));

        _clock.Advance(TimeSpan.FromMinutes(6) - TimeSpan.FromSeconds(20)); // the round: the probe and Ann's answered, Bob's still deferred
        var answered = _clock.GetUtcNow();
        a.Hear(Answered(Probe, answered), Answered("ann.lee@acme.test", answered), Deferred("bob.ray@acme.test", answered));
        a.Schedules.Answering(Domain);
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(Answered(Probe, answered), Answered("ann.lee@acme.test", answered), Deferred("bob.ray@acme.test", answered));

        _clock.Advance(TimeSpan.FromSeconds(5)); // Bob's retry, claimed by B
        await b.Shared.LoadAsync(Domain, ["bob.ray@acme.test"], CancellationToken.None);

        Assert.Equal(TimeSpan.FromMinutes(6), b.Schedules.DelayOf(Domain));
        Assert.Equal(TimeSpan.FromSeconds(20 - 5 + 1), b.Schedules.WhenPlantedPasses(Domain, ["bob.ray@acme.test"]));
        Assert.Equal(a.Schedules.WhenPlantedPasses(Domain, ["bob.ray@acme.test"]), b.Schedules.WhenPlantedPasses(Domain, ["bob.ray@acme.test"]));
        // Half a step has not passed since Ann was answered: the round is still being answered, in B as in A.
        Assert.True(b.Schedules.RoundStillAnswering(Domain));
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.False(b.Schedules.RoundStillAnswering(Domain));
    }

    [Fact]
    public async Task Shapes_planted_in_another_process_count_for_the_rounds_spread_and_a_process_does_not_count_its_own_twice()
    {
        var (a, b) = (Process(), Process());
        var start = _clock.GetUtcNow();
        a.Hear(Deferred(Probe, start));
        a.Schedules.NextRetry(Domain);
        _clock.Advance(TimeSpan.FromMinutes(6)); // past the delay, a person of A plants their first.last
        a.Plantings.Of(Domain).Planted("FirstDotLast");
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));

        await b.Shared.LoadAsync(Domain, ["bob.ray@acme.test"], CancellationToken.None);
        await a.Shared.LoadAsync(Domain, ["ann.lee@acme.test"], CancellationToken.None);

        Assert.Equal(1, b.Plantings.Of(Domain).Count("FirstDotLast"));
        Assert.Equal(0, b.Plantings.Of(Domain).Count("FLast"));
        Assert.Equal(1, a.Plantings.Of(Domain).Count("FirstDotLast"));
        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1)); // the next round: forgotten (the first step, no delay known)
        Assert.Equal(0, b.Plantings.Of(Domain).Count("FirstDotLast"));
    }

    [Fact]
    public async Task Rounds_that_ended_are_not_joined_by_a_process_that_is_deferred_there_much_later()
    {
        var (a, b, c) = (Process(), Process(), Process());
        a.Hear(Deferred(Probe, _clock.GetUtcNow()));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(Deferred(Probe, _clock.GetUtcNow()));

        _clock.Advance(TimeSpan.FromHours(2)); // greylisting us again, in B
        b.Hear(Deferred(Probe, _clock.GetUtcNow()));
        Assert.Equal(TimeSpan.FromMinutes(1), b.Schedules.NextRetry(Domain));
        await b.SaveAsync(Deferred(Probe, _clock.GetUtcNow()));

        _clock.Advance(TimeSpan.FromSeconds(10));
        await c.Shared.LoadAsync(Domain, [Probe], CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(50), c.Schedules.NextRetry(Domain));
    }

    [Fact]
    public async Task What_is_shared_expires_with_the_retries_that_need_it()
    {
        var a = Process();
        a.Hear(Deferred(Probe, _clock.GetUtcNow()), Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(Deferred(Probe, _clock.GetUtcNow()), Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        var database = Connect();
        var sweeps = new[] { ("greylist_rounds", "last_at < @cutoff"), ("greylist_planted", "planted_at < @cutoff") }
            .Select(t => new PeopleEnrich.Storage.Retention.ExpiringTable(database, _clock, t.Item1, t.Item1, t.Item2, () => a.Schedules.KeptFor))
            .ToList();

        _clock.Advance(a.Schedules.KeptFor - TimeSpan.FromMinutes(1));
        Assert.All(await Task.WhenAll(sweeps.Select(s => s.DeleteExpiredAsync(100, CancellationToken.None))), deleted => Assert.Equal(0, deleted));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(new[] { 1, 2 }, await Task.WhenAll(sweeps.Select(s => s.DeleteExpiredAsync(100, CancellationToken.None))));

        var b = Process();
        await b.Shared.LoadAsync(Domain, ["ann.lee@acme.test"], CancellationToken.None);
        Assert.Empty(b.Schedules.PlantedAmong(["ann.lee@acme.test"]));
    }

    [Fact]
    public async Task A_recipient_deferred_again_after_its_planting_was_forgotten_is_planted_anew_not_at_its_forgotten_first_deferral()
    {
        var a = Process();
        a.Hear(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));

        // Past KeptFor, before the hourly sweep has deleted the row: the domain's server defers Ann's address again.
        _clock.Advance(a.Schedules.KeptFor + TimeSpan.FromMinutes(10));
        var again = _clock.GetUtcNow();
        a.Hear(null, Deferred("ann.lee@acme.test", again));
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", again));
        Assert.Equal(["ann.lee@acme.test"], a.Schedules.PlantedAmong(["ann.lee@acme.test"]));

        // The process that claims the retry knows it planted a moment ago, and the sweep keeps it for the retries to come.
        _clock.Advance(TimeSpan.FromSeconds(30));
        var b = Process();
        await b.Shared.LoadAsync(Domain, ["ann.lee@acme.test"], CancellationToken.None);
        Assert.Equal(["ann.lee@acme.test"], b.Schedules.PlantedAmong(["ann.lee@acme.test"]));
        var sweep = new PeopleEnrich.Storage.Retention.ExpiringTable(Connect(), _clock, "greylist_planted", "greylist_planted", "planted_at < @cutoff", () => a.Schedules.KeptFor);
        Assert.Equal(0, await sweep.DeleteExpiredAsync(100, CancellationToken.None));
        Assert.Equal(["ann.lee@acme.test"], await PlantedAsync());
    }

    [Fact]
    public async Task A_rounds_people_do_not_each_rewrite_its_row_until_something_in_it_matters()
    {
        var a = Process();
        var start = _clock.GetUtcNow();
        a.Hear(Deferred(Probe, start));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(Deferred(Probe, start));

        // The next people of the round, 10 s later: their deferrals are shared, the round's latest deferral need not be.
        _clock.Advance(TimeSpan.FromSeconds(10));
        a.Hear(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        Assert.Equal(start, await LastDeferralAsync());

        // A tenth of the time after which rounds end (2 x 3 min by default): now it is written.
        _clock.Advance(TimeSpan.FromSeconds(30));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        Assert.Equal(_clock.GetUtcNow(), await LastDeferralAsync());
        Assert.Equal(["ann.lee@acme.test"], await PlantedAsync());
    }

    [Fact]
    public async Task Rounds_whose_write_was_cancelled_are_written_by_the_next_persons_session()
    {
        var a = Process();
        var start = _clock.GetUtcNow();
        a.Hear(Deferred(Probe, start));
        a.Schedules.NextRetry(Domain);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Shared.SaveAsync(
            Domain, new PersonProbeResult(Deferred(Probe, start), [], null, "mx.acme.test"), new Dictionary<string, string?>(), new CancellationToken(canceled: true)));

        // The next person of the round, a moment later: nothing in the rounds changed, but they were never written.
        _clock.Advance(TimeSpan.FromSeconds(1));
        a.Hear(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        a.Schedules.NextRetry(Domain);
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()));
        Assert.Equal(start, await FirstDeferralAsync());
    }

    [Fact]
    public async Task An_erased_persons_planted_address_is_forgotten_by_every_process()
    {
        var a = Process();
        a.Hear(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()), Deferred("bob.ray@acme.test", _clock.GetUtcNow()));
        await a.SaveAsync(null, Deferred("ann.lee@acme.test", _clock.GetUtcNow()), Deferred("bob.ray@acme.test", _clock.GetUtcNow()));

        var erased = await new GreylistingPersonalData(Connect()).EraseAsync(
            new ErasureSubject(new HashSet<string> { "Ann.Lee@acme.test" }, new HashSet<string>(), new HashSet<string>()), CancellationToken.None);

        Assert.Equal(1, erased);
        var b = Process();
        await b.Shared.LoadAsync(Domain, ["ann.lee@acme.test", "bob.ray@acme.test"], CancellationToken.None);
        Assert.Equal(["bob.ray@acme.test"], b.Schedules.PlantedAmong(["ann.lee@acme.test", "bob.ray@acme.test"]));
    }

    private async Task<DateTimeOffset?> FirstDeferralAsync()
    {
        await using var connection = await Connect().OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long?>("SELECT first_at FROM greylist_rounds WHERE domain = @domain", new { domain = Domain }) is { } at
            ? DateTimeOffset.FromUnixTimeMilliseconds(at)
            : null;
    }

    private async Task<DateTimeOffset> LastDeferralAsync()
    {
        await using var connection = await Connect().OpenAsync(CancellationToken.None);
        return DateTimeOffset.FromUnixTimeMilliseconds(await connection.ExecuteScalarAsync<long>(
            "SELECT last_at FROM greylist_rounds WHERE domain = @domain", new { domain = Domain }));
    }

    private async Task<IReadOnlyList<string>> PlantedAsync()
    {
        await using var connection = await Connect().OpenAsync(CancellationToken.None);
        return (await connection.QueryAsync<string>("SELECT address FROM greylist_planted WHERE address <> @probe", new { probe = Probe })).ToList();
    }

    private static RcptObservation Deferred(string address, DateTimeOffset at) =>
        new(address, RcptOutcome.Temporary, SmtpReply.Parse("450 4.2.0 Greylisted"), "mx.acme.test", at);

    private static RcptObservation Answered(string address, DateTimeOffset at) =>
        new(address, address == Probe ? RcptOutcome.Rejected : RcptOutcome.Accepted,
            SmtpReply.Parse(address == Probe ? "550 5.1.1 No such user" : "250 2.1.5 Ok"), "mx.acme.test", at);

    private Database Connect()
    {
        var database = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(_database.Settings).Build());
        _databases.Add(database);
        return database;
    }

    /// <summary>A process of its own: its memory, its connections, its life's name on what it shares.</summary>
    private FinderProcess Process()
    {
        var schedules = new GreylistSchedules(Settings, _clock);
        var plantings = new DomainPlantings(Settings, schedules, _clock);
        return new FinderProcess(schedules, plantings, new SharedGreylisting(Connect(), schedules, plantings, _clock, NullLogger<SharedGreylisting>.Instance));
    }

    private sealed record FinderProcess(GreylistSchedules Schedules, DomainPlantings Plantings, SharedGreylisting Shared)
    {
        /// <summary>A person's session heard these: the probe first (null when not asked), then their recipients.</summary>
        public void Hear(RcptObservation? probe, params RcptObservation[] recipients) => Schedules.Heard(Domain, probe, recipients);

        public Task SaveAsync(RcptObservation? probe, params RcptObservation[] recipients) =>
            Shared.SaveAsync(Domain, new PersonProbeResult(probe, recipients, null, "mx.acme.test"),
                recipients.ToDictionary(r => r.Address, r => r.Address == Probe ? null : (string?)"FirstDotLast"), CancellationToken.None);
    }
}

public sealed class SqliteSharedGreylistingTests : SharedGreylistingTests<Sqlite>;

public sealed class PostgresSharedGreylistingTests : SharedGreylistingTests<Postgres>;
