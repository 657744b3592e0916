namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// Why a mail host is not to be asked for now: it refused us (a block list, our reputation, a policy
/// naming us), or it could not be reached at all; until when that holds.
/// </summary>
public sealed record HostStanding(bool RefusedUs, string Why, DateTimeOffset Until)
{
    /// <summary>
    /// For a host that could not be reached: how long its current run of failures lasted, from the first to the last
    /// (each retry of a person put off for it that fails again lengthens it). Read from the memory; not written.
    /// </summary>
    public TimeSpan FailingFor { get; init; }
}

/// <summary>All SMTP probing stops until <see cref="Until"/>: several unrelated mail hosts refused us naming a block list, so our address is listed.</summary>
public sealed record ProbingPause(string Why, DateTimeOffset Until);

/// <summary>
/// What every process must know of a mail host before it opens a session there: a host that refused us
/// is not asked again for <see cref="SmtpOptions.BlockCooldown"/>, one that could not be reached not for
/// <see cref="SmtpOptions.UnreachableTtl"/>. Kept where every process sees it (the database): asking a
/// host that blocks us again only deepens the block.
/// </summary>
public interface IMailHostMemory
{
    /// <summary>Why the host is not to be asked now; null when it may be.</summary>
    Task<HostStanding?> StandingAsync(string host, CancellationToken cancellationToken);

    Task RememberAsync(string host, HostStanding standing, CancellationToken cancellationToken);

    /// <summary>The host, remembered unreachable, answered: it may be asked again (a refusal of us is not forgotten).</summary>
    Task ForgetUnreachableAsync(string host, CancellationToken cancellationToken);

    /// <summary>Whether all probing is paused (by refusals naming a block list from several unrelated hosts), and why.</summary>
    Task<ProbingPause?> PauseAsync(CancellationToken cancellationToken);
}
