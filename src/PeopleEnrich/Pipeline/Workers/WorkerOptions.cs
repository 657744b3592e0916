namespace PeopleEnrich.Pipeline.Workers;

public sealed class WorkerOptions
{
    /// <summary>Items processed at once by this process.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>Attempts before an item is FAILED (a worker that died holding it counts as one; a graceful stop does not).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How long a claimed item stays its worker's without a heartbeat: a dead worker's items return to the
    /// queue after this at most. Kept alive every <see cref="HeartbeatInterval"/> while the worker lives.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a process renews the leases of every item it holds (one UPDATE per process).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>On SIGTERM or Ctrl-C: how long the items in flight may take to finish before the rest are handed back.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest one attempt at an item may take; past it the attempt fails (and counts).</summary>
    public TimeSpan MaxItemTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// This process's name on its leases, the same across its restarts so that a restarted process takes its
    /// previous life's items back at once. Unset: this machine's name and a random value kept in
    /// <see cref="IdFolder"/>, one per process running from that folder at a time.
    /// </summary>
    public string? Id { get; set; }

    /// <summary>Where the worker's name is kept when <see cref="Id"/> is unset; relative to the working directory.</summary>
    public string IdFolder { get; set; } = ".peopleenrich";

    /// <summary>Wait before the first retry of an item whose sources all failed; doubles each attempt.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between retries.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest an idle worker waits before it looks for work again (after 0.5, 1, 2 and 4 s): work queued by any
    /// process wakes it at once (on PostgreSQL through the database), and each look reads when the earliest put-off item
    /// (a retry, a greylisting round) is due and ends the wait then, so this bounds only what no look saw coming: an item
    /// another process put off, due sooner than this process's next look.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Off for admin commands and tests that drive the queue themselves.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A heartbeat must come at least twice within a lease, or one late beat would hand live work on.</summary>
    public static bool IsValid(WorkerOptions options) =>
        options.Concurrency > 0 && options.MaxAttempts > 0 && options.HeartbeatInterval > TimeSpan.Zero
        && options.LeaseDuration >= 2 * options.HeartbeatInterval && options.ShutdownGrace >= TimeSpan.Zero && options.MaxItemTime > TimeSpan.Zero
        && options.IdlePollInterval > TimeSpan.Zero;
}
