using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Credits;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Storage;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Telemetry;

/// <summary>
/// A claim tells a take-over (the item's previous lease ran out unsettled) from an item that was free (new, or put
/// back by its worker), and counts it: on a real database, with the app's own workers off and a clock the test moves.
/// </summary>
public abstract class LeaseTakeOverTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
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
}

public sealed class SqliteLeaseTakeOverTests : LeaseTakeOverTests<Sqlite>;

public sealed class PostgresLeaseTakeOverTests : LeaseTakeOverTests<Postgres>;
