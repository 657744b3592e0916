namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// What a domain's catch-all probe was answered, where every process sees it: a lane reads it when it starts, and
/// asks the probe only when nobody has, so that a domain's probe is asked once, not once per process or per lane.
/// </summary>
public interface IProbeMemory
{
    /// <summary>The answer to the domain's probe (<paramref name="probe"/>, its made-up recipient) still trusted; null when none is.</summary>
    Task<RcptObservation?> AnsweredAsync(string domain, string probe, CancellationToken cancellationToken);

    /// <summary>A probe's answer that settles the question (accepted: catch-all; rejected: not).</summary>
    Task RememberAsync(string domain, RcptObservation answer, CancellationToken cancellationToken);
}
