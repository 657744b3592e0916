namespace PeopleEnrich.Webhooks;

/// <summary>Webhooks: how completions are delivered (bound from the "Webhooks" section).</summary>
public sealed class WebhookOptions
{
    /// <summary>One delivery attempt, connection, request and the capped response read included; then it is cut off.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failed attempt; each next wait doubles (with jitter), up to <see cref="MaxRetryAfter"/>.</summary>
    public TimeSpan FirstRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long after the batch completed an event is still tried; then it is given up (FAILED).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Deliveries in flight at once in this process (each waits at most <see cref="Timeout"/>).</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>
    /// How often one delivery loop of the process looks for due events nobody woke it for (retries whose time came): new
    /// events wake the loops at once, this process's and (on PostgreSQL) every other's.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this much of a receiver's answer is read (and thrown away); the status is what counts.</summary>
    public int MaxResponseBytes { get; set; } = 64 * 1024;

    /// <summary>How long delivered, failed and disabled events are kept for 'webhooks deliveries'.</summary>
    public TimeSpan KeepDeliveries { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// After 'webhooks secret --rotate', how long calls are signed with the replaced secret too (zero: at once the new
    /// one only), so a receiver can switch to the new secret without rejecting calls in between.
    /// </summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    public static bool IsValid(WebhookOptions options) =>
        options.Timeout > TimeSpan.Zero && options.FirstRetryAfter > TimeSpan.Zero && options.MaxRetryAfter >= options.FirstRetryAfter
        && options.GiveUpAfter > TimeSpan.Zero && options.Concurrency >= 1 && options.PollInterval > TimeSpan.Zero
        && options.MaxResponseBytes >= 0 && options.KeepDeliveries > TimeSpan.Zero && options.RotationOverlap >= TimeSpan.Zero;
}
