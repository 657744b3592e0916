using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Api;

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// /healthz: the process answers. /readyz: and its database does too (503 when not); it also says, still
    /// ready, what works only in part (SMTP probing paused), one "name: status[: why]" line per check.
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new() { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new() { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteReadinessAsync });
        return app;
    }

    private static Task WriteReadinessAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        // An unhealthy check's description is generic on purpose (the reason is in the log); a degraded one says what to fix.
        var lines = report.Entries.Select(entry => $"{entry.Key}: {entry.Value.Status}{(entry.Value.Status == HealthStatus.Healthy ? "" : $": {entry.Value.Description}")}");
        return http.Response.WriteAsync($"{report.Status}\n{string.Join("\n", lines)}\n");
    }

    private sealed class DatabaseHealthCheck(Database database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The reason goes to the log, not to the anonymous caller.
                return HealthCheckResult.Unhealthy("The database is not reachable.", exception);
            }
        }
    }
}
