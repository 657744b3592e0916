using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Cluster;

/// <summary>
/// Claims on numbered slots of a named limit ("at most 2 sessions at mx.acme.com": slots 0 and 1), shared by every
/// process on the database: a row per slot with its holder and an expiry that the holder's heartbeat
/// (<see cref="ClusterHeartbeat"/>) moves on while it lives. A process that dies (SIGKILL, a lost machine) stops
/// renewing, and its claims free themselves within <see cref="ClusterOptions.LeaseTtl"/>, or sooner: when it starts
/// again under its lasting name (<see cref="JoinAsAsync"/>), or when another process takes over its items
/// (<see cref="ReleaseClaimsOfDeadAsync"/>).
/// </summary>
/// <remarks>
/// Rows rather than PostgreSQL advisory locks: one code path on both databases, no pooled connection held per
/// claim (a session-level advisory lock lives on its connection, and Npgsql's pool resets connections it reuses),
/// and an operator can see who holds what (<c>SELECT * FROM cluster_leases</c>). The price is that a dead
/// process's claims would wait out the TTL instead of freeing at once; the member name on each claim is what lets
/// a restart, or the take-over of the dead process's items, release them early.
/// </remarks>
public sealed class ClusterLeases(Database database, TimeProvider time, IOptions<ClusterOptions> options, ILogger<ClusterLeases> logger)
{
    private readonly ConcurrentDictionary<ClusterLease, byte> _held = new();

    // Waiters in this process are woken as soon as a claim of the same name is released here; others poll.
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _released = new(StringComparer.Ordinal);

    /// <summary>This process's life: a restart is a new holder, and the old life's claims run out.</summary>
    public string Holder { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>The process's lasting name (its workers' name, the same across restarts) once its workers started; null before, and in a process that runs none.</summary>
    public string? Member { get; private set; }

    public int HeldCount => _held.Count;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A free slot of <paramref name="name"/> (0 to <paramref name="slots"/>−1), claimed now; null when all are held.</summary>
    public async Task<ClusterLease?> TryAcquireAsync(string name, int slots, CancellationToken cancellationToken)
    {
        for (var slot = 0; slot < slots; slot++)
        {
            var now = Now;
            var claimed = await database.WriteOnceAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO cluster_leases (name, slot, holder, member, until_at) VALUES (@name, @slot, @holder, @member, @until)
                ON CONFLICT (name, slot) DO UPDATE SET holder = excluded.holder, member = excluded.member, until_at = excluded.until_at
                WHERE cluster_leases.until_at <= @now
                """, new { name, slot, holder = Holder, member = Member, until = now + (long)options.Value.LeaseTtl.TotalMilliseconds, now },
                transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
            if (claimed == 1)
            {
                var lease = new ClusterLease(this, name, slot);
                _held[lease] = 0;
                return lease;
            }
        }

        return null;
    }

    /// <summary>Waits for a free slot of <paramref name="name"/>, as long as it takes.</summary>
    public async Task<ClusterLease> AcquireAsync(string name, int slots, CancellationToken cancellationToken) =>
        (await AcquireWhileAsync(name, slots, static () => true, cancellationToken))!;

    /// <summary>Waits for a free slot of <paramref name="name"/> while <paramref name="wanted"/> says it is still wanted; null once it is not.</summary>
    public async Task<ClusterLease?> AcquireWhileAsync(string name, int slots, Func<bool> wanted, CancellationToken cancellationToken)
    {
        for (var waited = false; wanted(); waited = true)
        {
            var released = _released.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (await TryAcquireAsync(name, slots, cancellationToken) is { } lease)
            {
                lease.WaitedFor = waited;
                return lease;
            }

            // Spread out, so that processes waiting for the same claim do not all ask at the same instant.
            var poll = options.Value.PollInterval * (0.5 + Random.Shared.NextDouble());
            await Task.WhenAny(released.Task, Task.Delay(poll, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }

        return null;
    }

    /// <summary>
    /// From now on this process's claims carry <paramref name="member"/>, and the claims a previous life of that member
    /// left behind (SIGKILL, OOM, power) are released now, however long their TTL: that life is over (a member name is
    /// held by one living process at a time), and the items it held, taken back at once, would otherwise wait for
    /// their domains' lanes and hosts' session slots until the claims ran out. Called once, before the first claim.
    /// </summary>
    public async Task<int> JoinAsAsync(string member, CancellationToken cancellationToken)
    {
        Member = member;
        return await DeleteAsync("member = @member AND holder <> @holder", new { member, holder = Holder }, cancellationToken);
    }

    /// <summary>
    /// Releases the claims of <paramref name="member"/>, whose items' leases ran out and were just taken over, if its
    /// claims missed their renewals too (not renewed for half a TTL, where a living process renews every third): it is
    /// dead, and its claims would make its items, now in other hands, and everyone's at its domains wait out the TTL.
    /// A member that lives keeps its claims; so does one that started again meanwhile (its new life renews them).
    /// </summary>
    public Task<int> ReleaseClaimsOfDeadAsync(string member, CancellationToken cancellationToken) =>
        DeleteAsync("member = @member AND holder <> @holder AND until_at < @stale",
            new { member, holder = Holder, stale = Now + (long)(options.Value.LeaseTtl / 2).TotalMilliseconds }, cancellationToken);

    private async Task<int> DeleteAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        var released = await database.WriteOnceAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM cluster_leases WHERE {where}", parameters, transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
        if (released > 0)
        {
            // Which names were freed is not known here: every waiter in this process looks again.
            foreach (var name in _released.Keys)
            {
                if (_released.TryRemove(name, out var waiters))
                {
                    waiters.TrySetResult();
                }
            }
        }

        return released;
    }

    /// <summary>Moves on the expiry of every claim this process holds; called by the heartbeat.</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var held = _held.Count;
        if (held == 0)
        {
            return;
        }

        var renewed = await database.WriteOnceAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE cluster_leases SET until_at = @until WHERE holder = @holder",
            new { holder = Holder, until = Now + (long)options.Value.LeaseTtl.TotalMilliseconds }, transaction, cancellationToken: cancellationToken)),
            cancellationToken, durable: false);
        if (renewed < held)
        {
            // A heartbeat came too late (the database was unreachable for a TTL): another process may hold them now.
            logger.LogWarning("Renewed {Renewed} of the {Held} claims this process holds: the others ran out and may be another's now", renewed, held);
        }
    }

    internal async Task ReleaseAsync(ClusterLease lease)
    {
        if (!_held.TryRemove(lease, out _))
        {
            return;
        }

        try
        {
            await database.WriteOnceAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM cluster_leases WHERE name = @name AND slot = @slot AND holder = @holder",
                new { name = lease.Name, slot = lease.Slot, holder = Holder }, transaction)), CancellationToken.None, durable: false);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException)
        {
            // Not renewed any more, it runs out by itself.
            logger.LogWarning(exception, "Could not release the claim {Name}#{Slot}; it runs out within {Ttl}", lease.Name, lease.Slot, options.Value.LeaseTtl);
        }

        if (_released.TryRemove(lease.Name, out var released))
        {
            released.TrySetResult();
        }
    }
}

/// <summary>One claimed slot; disposing it releases the slot.</summary>
public sealed class ClusterLease : IAsyncDisposable
{
    private readonly ClusterLeases _owner;

    internal ClusterLease(ClusterLeases owner, string name, int slot)
    {
        _owner = owner;
        Name = name;
        Slot = slot;
    }

    public string Name { get; }

    public int Slot { get; }

    /// <summary>Every slot was held when first asked for (<see cref="ClusterLeases.AcquireWhileAsync"/>): this one was waited for, and taken over from its holder.</summary>
    public bool WaitedFor { get; internal set; }

    public ValueTask DisposeAsync() => new(_owner.ReleaseAsync(this));

    public override string ToString() => $"{Name}#{Slot}";
}

/// <summary>Renews this process's claims every third of <see cref="ClusterOptions.LeaseTtl"/>, so that they outlive it by at most the TTL.</summary>
public sealed class ClusterHeartbeat(ClusterLeases leases, TimeProvider time, IOptions<ClusterOptions> options, ILogger<ClusterHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.LeaseTtl / 3, time, stoppingToken);
                await leases.RenewAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: a renewal cut short, or the container disposed under it (a start that failed), is no failure.
                return;
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(exception, "Could not renew this process's claims; trying again");
            }
        }
    }
}
