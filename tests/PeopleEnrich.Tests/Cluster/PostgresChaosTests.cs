using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Cluster;

/// <summary>
/// The chaos drill, shortened for CI (bench/run-chaos.sh runs it in full): three worker processes and one api
/// process on one PostgreSQL against a simulated world that answers at once; 300 items in three batches while a
/// random worker is killed with SIGKILL five times and started again. Several processes share PostgreSQL only,
/// so this class has no SQLite twin.
/// </summary>
public sealed class PostgresChaosTests
{
    private const int Items = 300;
    private const int Kills = 5;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>
    /// "Its own work" for an item of a world that answers at once, on a shared two-core machine running four
    /// servers and PostgreSQL: generous, so that only an item stranded for another lease (or forever) fails.
    /// </summary>
    private static readonly TimeSpan OwnWork = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_random_workers_five_times_loses_nothing_charges_nothing_twice_and_a_killed_worker_s_items_complete_within_a_lease()
    {
        PostgresTestDatabase.RequireServer();
        await using var database = await TestDatabase.CreateAsync(Postgres.Name);

        var report = await ClusterDrill.RunAsync(new ClusterDrillOptions
        {
            Server = new ServerOptions { App = BuiltApp.InThisSolution, StopTimeout = TimeSpan.FromSeconds(30) },
            PostgresConnectionString = database.Settings["ConnectionStrings:Postgres"]!,
            Workers = 3,
            Items = Items,
            Batches = 3,
            Kills = Kills,
            LeaseDuration = Lease,
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            Timeout = TimeSpan.FromMinutes(4),
        }, TestContext.Current.CancellationToken);

        Assert.Equal(Items, report.Completed);
        Assert.Equal(Items, report.SettleEntries);
        Assert.Equal(Items, report.ItemsSettledOnce);
        // Everyone has a mailbox: all found, each charged once, and the account's figure is the ledger's.
        Assert.Equal(Items, report.FoundInResults);
        Assert.Equal(report.FoundInResults, report.ChargedOnItems);
        Assert.Equal(report.ChargedOnItems, report.ChargedInLedger);
        Assert.Equal(report.ChargedInLedger, report.UsedCredits);
        Assert.Equal(0, report.ReservedCredits);

        // Kills stop once every item completed (a restart on a busy machine can outlast a share of the work).
        Assert.InRange(report.Kills.Count, 1, Kills);
        // Otherwise the drill killed only idle workers and tested no recovery.
        Assert.NotEmpty(report.KillToCompletion);
        Assert.All(report.KillToCompletion, wait => Assert.True(wait <= Lease + OwnWork, $"an item of a killed worker completed {wait} after the kill"));
    }
}
