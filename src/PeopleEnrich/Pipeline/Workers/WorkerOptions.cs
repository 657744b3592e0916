namespace PeopleEnrich.Pipeline.Workers;

public sealed class WorkerOptions
{
    /// <summary>Items processed at once by this process.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>Attempts before an item is FAILED (a dead worker's expired lease counts as one).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long a claimed item belongs to its worker; a dead worker's items return after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Wait before the first retry of an item whose sources all failed; doubles each attempt.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between retries.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Off for admin commands and tests that drive the queue themselves.</summary>
    public bool Enabled { get; set; } = true;
}
