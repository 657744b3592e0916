using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>/readyz says when SMTP probing is paused, and why: the service still answers, but finds fewer addresses.</summary>
public sealed class ProbingHealthCheck(MailboxProber prober) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await prober.PausedAsync(cancellationToken) is { } pause
            ? HealthCheckResult.Degraded($"SMTP probing is paused until {pause.Until:u}: {pause.Why}")
            : HealthCheckResult.Healthy();
}
