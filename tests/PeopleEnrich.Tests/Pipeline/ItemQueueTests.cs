using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Storage;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>
/// The queue on a real database, driven by the test (the app's own workers are off), with a clock
/// the test moves to make leases run out.
/// </summary>
public abstract class ItemQueueTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow.AddMinutes(1));
    private TestApp _app = null!;

    private Database Database => _app.Service<Database>();

    private ItemQueue Queue => new(Database, new CreditLedger(Database, _clock), _clock);

    public async ValueTask InitializeAsync()
    {
        if (TProvider.Name == Postgres.Name)
        {
            PostgresTestDatabase.RequireServer();
        }

        _app = await TestApp.StartAsync(TProvider.Name, new Dictionary<string, string?> { ["Workers:Enabled"] = "false" });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_leased_item_is_not_claimed_by_another_worker()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(5));

        var first = await Queue.ClaimAsync("w1", 3, Lease, maxAttempts: 5, CancellationToken.None);
        var second = await Queue.ClaimAsync("w2", 10, Lease, maxAttempts: 5, CancellationToken.None);
        var third = await Queue.ClaimAsync("w3", 10, Lease, maxAttempts: 5, CancellationToken.None);

        Assert.Equal(3, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(third);
        Assert.Empty(first.Select(Key).Intersect(second.Select(Key)));
        Assert.All(first.Concat(second), item => Assert.Equal(1, item.Attempts));
    }

    [Fact]
    public async Task An_expired_lease_hands_the_item_on_and_the_late_worker_cannot_settle_it()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(1, "contact.phones"));
        var stale = Assert.Single(await Queue.ClaimAsync("dead-worker", 1, Lease, 5, CancellationToken.None));

        _clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var fresh = Assert.Single(await Queue.ClaimAsync("live-worker", 1, Lease, 5, CancellationToken.None));
        Assert.Equal(Key(stale), Key(fresh));
        Assert.Equal(2, fresh.Attempts);

        var found = Verdict.Decide([], [new PhoneEvidence("+33612345678", "FR", "test")]);
        Assert.False(await Queue.CompleteAsync(stale, "dead-worker", found, CancellationToken.None));
        Assert.True(await Queue.CompleteAsync(fresh, "live-worker", found, CancellationToken.None));
        Assert.False(await Queue.CompleteAsync(fresh, "live-worker", found, CancellationToken.None));

        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM credit_entries WHERE batch_id = @BatchId AND item_idx = @Idx", new { fresh.BatchId, fresh.Idx }));
        var credits = await account.CreditsAsync();
        Assert.Equal(10, credits.Used); // charged once, for the phone found
        Assert.Equal(990, credits.Remaining);
    }

    [Fact]
    public async Task An_item_whose_workers_keep_dying_fails_after_the_last_attempt_and_its_credits_are_released()
    {
        var account = await _app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(1, "contact.emails", "contact.phones"));
        Assert.Equal(989, (await account.CreditsAsync()).Remaining);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Single(await Queue.ClaimAsync($"doomed-{attempt}", 1, Lease, maxAttempts: 2, CancellationToken.None));
            _clock.Advance(Lease + TimeSpan.FromSeconds(1));
        }

        Assert.Empty(await Queue.ClaimAsync("next", 1, Lease, maxAttempts: 2, CancellationToken.None));
        Assert.Equal(1, await Queue.FailAbandonedAsync(maxAttempts: 2, CancellationToken.None));
        Assert.Equal(0, await Queue.FailAbandonedAsync(maxAttempts: 2, CancellationToken.None));

        var batch = await account.GetAsync(id);
        Assert.Equal("FAILED", batch["status"]!.GetValue<string>());
        var item = batch["results"]![0]!;
        Assert.Equal("FAILED", item["status"]!.GetValue<string>());
        Assert.Contains("gave up after 2 attempts", item["error"]!.GetValue<string>());
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_after_its_delay_then_failed_with_its_reason()
    {
        var account = await _app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(1));
        var first = Assert.Single(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 2, CancellationToken.None));
        Assert.True(await Queue.ReleaseAfterFailureAsync(first, "w", "every source failed: x: down", 2, TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Empty(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 2, CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(31));
        var second = Assert.Single(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 2, CancellationToken.None));
        Assert.Equal(2, second.Attempts);
        Assert.True(await Queue.ReleaseAfterFailureAsync(second, "w", "every source failed: x: down", 2, TimeSpan.FromSeconds(30), CancellationToken.None));

        var item = (await account.GetAsync(id))["results"]![0]!;
        Assert.Equal("FAILED", item["status"]!.GetValue<string>());
        Assert.Equal("every source failed: x: down (gave up after 2 attempts)", item["error"]!.GetValue<string>());
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Fact]
    public async Task An_item_put_off_after_an_outage_keeps_its_attempt_and_its_greylisting_budget()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(1));
        var first = Assert.Single(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 5, CancellationToken.None));
        Assert.True(await Queue.DeferAfterOutageAsync(first, "w", "could not check: DNS did not answer for x.com", TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Empty(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 5, CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(31));
        var second = Assert.Single(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 5, CancellationToken.None));
        Assert.Equal((1L, 0L, 1L), (second.Attempts, second.Deferrals, second.OutageRetries));

        Assert.True(await Queue.DeferAsync(second, "w", "greylisting", TimeSpan.FromSeconds(30), CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(31));
        var third = Assert.Single(await Queue.ClaimAsync("w", 1, Lease, maxAttempts: 5, CancellationToken.None));
        Assert.Equal((1L, 1L, 1L), (third.Attempts, third.Deferrals, third.OutageRetries));
    }

    [Fact]
    public async Task A_heartbeat_keeps_the_items_in_flight_and_lets_go_of_the_others()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(3));
        var held = await Queue.ClaimAsync("w1", 3, Lease, 5, CancellationToken.None);
        Assert.Equal(3, held.Count);

        // Two of the three are still being worked on; the third's work ended without settling it.
        _clock.Advance(Lease / 2);
        Assert.Equal(2, await Queue.RenewAsync("w1", held.Take(2).ToList(), Lease, CancellationToken.None));
        Assert.Equal(0, await Queue.RenewAsync("someone-else", held, Lease, CancellationToken.None));

        _clock.Advance(Lease / 2 + TimeSpan.FromSeconds(1));
        var taken = Assert.Single(await Queue.ClaimAsync("w2", 10, Lease, 5, CancellationToken.None));
        Assert.Equal(Key(held[2]), Key(taken));
        Assert.Equal(2, taken.Attempts); // a worker that lost an item spent an attempt on it
        Assert.Equal(1, await ScalarAsync("SELECT takeovers FROM items WHERE batch_id = @BatchId AND idx = @Idx", taken));
        Assert.Equal(0, await ScalarAsync("SELECT takeovers FROM items WHERE batch_id = @BatchId AND idx = @Idx", held[0]));
    }

    [Fact]
    public async Task A_graceful_stop_hands_the_items_back_at_once_without_counting_their_attempts()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(3));
        var held = await Queue.ClaimAsync("stopping", 2, Lease, 5, CancellationToken.None);
        var other = Assert.Single(await Queue.ClaimAsync("staying", 10, Lease, 5, CancellationToken.None));

        Assert.Equal(2, await Queue.ReleaseHeldAsync("stopping", CancellationToken.None));
        Assert.False(await Queue.CompleteAsync(held[0], "stopping", Verdict.Decide([], []), CancellationToken.None));

        var again = await Queue.ClaimAsync("next", 10, Lease, 5, CancellationToken.None);
        Assert.Equal(held.Select(Key).Order(), again.Select(Key).Order());
        Assert.All(again, item => Assert.Equal(1, item.Attempts));
        Assert.Equal(0, await ScalarAsync("SELECT SUM(takeovers) FROM items WHERE batch_id = @BatchId", other));
    }

    [Fact]
    public async Task A_restarted_worker_takes_back_its_previous_lifes_items_at_once_and_their_attempts_still_count()
    {
        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(3));
        var died = await Queue.ClaimAsync("host-a1b2", 2, Lease, maxAttempts: 2, CancellationToken.None);
        var others = Assert.Single(await Queue.ClaimAsync("host-c3d4", 1, Lease, maxAttempts: 2, CancellationToken.None));

        Assert.Equal(2, await Queue.ExpireLeasesOfAsync("host-a1b2", CancellationToken.None));
        var back = await Queue.ClaimAsync("host-a1b2", 10, Lease, maxAttempts: 2, CancellationToken.None);
        Assert.Equal(died.Select(Key).Order(), back.Select(Key).Order()); // not the other worker's, whose lease holds
        Assert.All(back, item => Assert.Equal(2, item.Attempts));
        Assert.Equal(2, await ScalarAsync("SELECT SUM(takeovers) FROM items WHERE batch_id = @BatchId", others));

        // Dying with it again, on its last attempt: FAILED at once, not after a lease.
        Assert.Equal(2, await Queue.ExpireLeasesOfAsync("host-a1b2", CancellationToken.None));
        Assert.Equal(2, await Queue.FailAbandonedAsync(maxAttempts: 2, CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_workers_never_claim_one_item_twice()
    {
        var account = await _app.CreateAccountAsync(credits: 10_000);
        for (var i = 0; i < 3; i++)
        {
            await account.SubmitAcceptedAsync(People.Batch(100));
        }

        var claimed = new ConcurrentBag<(string, long)>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var queue = new ItemQueue(Database, new CreditLedger(Database, _clock), _clock);
            while ((await queue.ClaimAsync($"w{worker}", 7, Lease, 5, CancellationToken.None)) is { Count: > 0 } items)
            {
                foreach (var item in items)
                {
                    claimed.Add(Key(item));
                }
            }
        })));

        Assert.Equal(300, claimed.Count);
        Assert.Equal(300, claimed.Distinct().Count());
    }

    [Fact]
    public async Task Workers_settling_a_batchs_items_at_once_report_its_completion_exactly_once()
    {
        // Eight queues are eight group committers: on PostgreSQL their settlements are concurrent transactions, so two of
        // them can settle a batch's last two items at once; each must see the other's, and exactly one completes it.
        var account = await _app.CreateAccountAsync(credits: 10_000);
        var batches = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            batches.Add(await account.SubmitAcceptedAsync(People.Batch(25, "contact.phones")));
        }

        var completions = new CompletionRecorder();
        var found = Verdict.Decide([], [new PhoneEvidence("+33612345678", "FR", "test")]);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var queue = new ItemQueue(Database, new CreditLedger(Database, _clock), _clock, [completions]);
            while ((await queue.ClaimAsync($"w{worker}", 1, Lease, 5, CancellationToken.None)) is [var item])
            {
                Assert.True(await queue.CompleteAsync(item, $"w{worker}", found, CancellationToken.None));
            }
        })));

        Assert.Equal(batches.Order(), completions.Batches.Order());
    }

    private sealed class CompletionRecorder : IBatchCompletion
    {
        private readonly ConcurrentQueue<string> _batches = new();

        public IEnumerable<string> Batches => _batches;

        public Task BatchCompletedAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, CompletedBatch batch,
            CancellationToken cancellationToken)
        {
            _batches.Enqueue(batch.Id);
            return Task.CompletedTask;
        }

        public void Committed()
        {
        }
    }

    [Fact]
    public async Task A_claim_after_a_lease_ran_out_is_a_take_over_from_its_owner_and_a_put_back_item_is_not()
    {
        long takenOver = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Instruments.Name && instrument.Name == "peopleenrich.leases.taken_over")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref takenOver, value));
        listener.Start();

        var account = await _app.CreateAccountAsync();
        await account.SubmitAcceptedAsync(People.Batch(2));
        var claimed = await Queue.ClaimAsync("dead-worker", 2, Lease, 5, CancellationToken.None);
        Assert.Equal(2, claimed.Count);
        Assert.All(claimed, item => Assert.Null(item.TakenOverFrom));

        // One item is put back by its worker (a failed attempt); the other's worker dies with it.
        Assert.True(await Queue.ReleaseAfterFailureAsync(claimed[0], "dead-worker", "it failed", 5, TimeSpan.Zero, CancellationToken.None));
        _clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var reclaimed = await Queue.ClaimAsync("live-worker", 2, Lease, 5, CancellationToken.None);

        Assert.Equal(2, reclaimed.Count);
        Assert.Null(Assert.Single(reclaimed, item => item.Idx == claimed[0].Idx).TakenOverFrom);
        Assert.Equal("dead-worker", Assert.Single(reclaimed, item => item.Idx == claimed[1].Idx).TakenOverFrom);
        // Other tests in this process may take leases over too: at least this one was counted.
        Assert.True(Interlocked.Read(ref takenOver) >= 1);
    }

    private static (string, long) Key(ClaimedItem item) => (item.BatchId, item.Idx);

    private async Task<long> ScalarAsync(string sql, ClaimedItem item)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>(sql, new { item.BatchId, item.Idx });
    }
}

public sealed class SqliteItemQueueTests : ItemQueueTests<Sqlite>;

public sealed class PostgresItemQueueTests : ItemQueueTests<Postgres>;
