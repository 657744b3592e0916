using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PeopleEnrich.Telemetry;

namespace PeopleEnrich.Hosting;

public sealed class MetricsOptions
{
    public const string Path = "/metrics";

    /// <summary>Serve Prometheus metrics at /metrics (and push them over OTLP when an endpoint is set).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When set, /metrics answers only on connections made to this local port (one of those in --urls), so that the
    /// API's public port can refuse it (404).
    /// </summary>
    public int? Port { get; set; }
}

/// <summary>
/// Metrics (Prometheus at /metrics, and OTLP) and traces (OTLP only, when OTEL_EXPORTER_OTLP_ENDPOINT is set), with
/// ASP.NET Core's own instruments. Without an OTLP endpoint no span is recorded at all: the activity source has no
/// listener, and its spans cost nothing.
/// </summary>
public static class TelemetrySetup
{
    /// <summary>The standard OpenTelemetry variable (or configuration key) naming the collector; the exporter reads the rest (protocol, headers).</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private const string ServiceName = "peopleenrich";

    // Scrapes and probes would be most of the spans, and tell nothing.
    private static readonly string[] UntracedPaths = [MetricsOptions.Path, "/healthz", "/readyz"];

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Metrics");
        builder.Services.Configure<MetricsOptions>(section);
        var metrics = section.Get<MetricsOptions>() ?? new MetricsOptions();
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);
        if (!metrics.Enabled && !otlp)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(
            builder.Configuration["OTEL_SERVICE_NAME"] ?? ServiceName,
            serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString(),
            serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"));
        if (metrics.Enabled)
        {
            telemetry.WithMetrics(meters =>
            {
                meters.AddMeter(Instruments.Name).AddAspNetCoreInstrumentation().AddPrometheusExporter();
                if (otlp)
                {
                    meters.AddOtlpExporter();
                }
            });
        }

        if (otlp)
        {
            telemetry.WithTracing(traces => traces
                .AddSource(Instruments.Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = http =>
                    !UntracedPaths.Any(path => http.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase)))
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>
    /// /metrics in Prometheus's text format, with no API key (like /healthz: see README, Metrics and traces). Placed
    /// before authentication, so that a scrape every few seconds neither runs the key check nor logs its refusal.
    /// </summary>
    public static WebApplication UseMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.Enabled)
        {
            // The port a connection arrived on is the socket's: no header can claim another.
            app.UseOpenTelemetryPrometheusScrapingEndpoint(http =>
                http.Request.Path.Equals(MetricsOptions.Path, StringComparison.OrdinalIgnoreCase)
                && (options.Port is not { } port || http.Connection.LocalPort == port));
        }

        return app;
    }
}
