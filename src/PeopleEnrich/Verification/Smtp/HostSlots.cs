using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PeopleEnrich.Cluster;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// The politeness every process keeps together towards one mail host: at most <see cref="SmtpOptions.MaxSessionsPerHost"/>
/// sessions open at once and <see cref="SmtpOptions.MinSessionGap"/> between two session starts, counted over every
/// process sharing the database (claims in <c>cluster_leases</c>, turns in <c>cluster_pacing</c>). A process first
/// queues its own openers on a local gate, so that only as many ask the database as could ever be let in.
/// </summary>
public sealed class HostSlots(ClusterLeases leases, ClusterPacer pacer, IOptions<SmtpOptions> options)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>One of the host's session slots, waiting as long as it takes for one.</summary>
    public async Task<HostSlot> TakeAsync(string host, CancellationToken cancellationToken)
    {
        var gate = Gate(host);
        await gate.WaitAsync(cancellationToken);
        try
        {
            return new HostSlot(gate, await leases.AcquireAsync(Name(host), options.Value.MaxSessionsPerHost, cancellationToken));
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>One of the host's session slots if one is free now, in this process and in every other; null when none is.</summary>
    public async Task<HostSlot?> TryTakeAsync(string host, CancellationToken cancellationToken)
    {
        var gate = Gate(host);
        if (!gate.Wait(0))
        {
            return null;
        }

        try
        {
            if (await leases.TryAcquireAsync(Name(host), options.Value.MaxSessionsPerHost, cancellationToken) is { } lease)
            {
                return new HostSlot(gate, lease);
            }
        }
        catch
        {
            gate.Release();
            throw;
        }

        gate.Release();
        return null;
    }

    /// <summary>Waits until the last session start at the host, by any process, was at least the gap ago; the start is reserved.</summary>
    public Task KeepGapAsync(string host, CancellationToken cancellationToken) =>
        options.Value.MinSessionGap <= TimeSpan.Zero
            ? Task.CompletedTask
            : pacer.WaitTurnAsync("smtp-start:" + host.ToLowerInvariant(), options.Value.MinSessionGap, burst: 1, cancellationToken);

    private SemaphoreSlim Gate(string host) => _local.GetOrAdd(host, _ => new SemaphoreSlim(options.Value.MaxSessionsPerHost));

    private static string Name(string host) => "smtp-host:" + host.ToLowerInvariant();
}

/// <summary>A session slot at a mail host, held by this process; disposing it frees it for everyone.</summary>
public sealed class HostSlot(SemaphoreSlim gate, ClusterLease lease) : IAsyncDisposable
{
    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await lease.DisposeAsync();
        }
        finally
        {
            gate.Release();
        }
    }
}
