using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using PeopleEnrich.Telemetry;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// One upstream's way out, the same whatever its protocol: its settings, and its named HttpClient, whose
/// requests go through the upstream's resilience pipeline (time-outs, retries waiting out Retry-After,
/// circuit breaker, rate limit) and whose logged headers are redacted. Adapters send through it only.
/// </summary>
public sealed class UpstreamChannel(IHttpClientFactory clients, string clientName, UpstreamOptions upstream)
{
    /// <summary>The HttpClient (and resilience pipeline) name of Upstreams:N.</summary>
    public static string ClientName(int index) => "upstream-" + index.ToString(CultureInfo.InvariantCulture);

    public UpstreamOptions Upstream => upstream;

    /// <summary>
    /// Sends the request (its URL relative to BaseUrl; the adapter adds the key in its provider's way) and
    /// returns the response, which the caller disposes. An answer other than a success is an <see cref="UpstreamException"/>
    /// naming the status, with the problem's title and detail (RFC 9457) when the body is one, the key blanked out.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var http = clients.CreateClient(clientName);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Instruments.UpstreamCalled(upstream.Name, exception switch
            {
                BrokenCircuitException => "circuit_open",
                TimeoutRejectedException or OperationCanceledException => "timed_out",
                RateLimiterRejectedException => "throttled",
                _ => "unreachable",
            });
            throw;
        }

        Instruments.UpstreamCalled(upstream.Name, (int)response.StatusCode switch
        {
            >= 200 and < 300 => "ok",
            429 => "throttled",
            >= 500 => "server_error",
            _ => "rejected",
        });
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw new UpstreamException($"answered {(int)response.StatusCode}{await ProblemAsync(response, cancellationToken)}", (int)response.StatusCode);
        }
    }

    /// <summary>The problem's title and detail, made safe to log; nothing when the body is not a problem.</summary>
    private async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync(UpstreamProblemJsonContext.Default.UpstreamProblem, cancellationToken);
            var text = string.Join(": ", new[] { problem?.Title, problem?.Detail }.Where(part => !string.IsNullOrWhiteSpace(part)));
            return text.Length == 0 ? "" : " (" + ForeignText.Loggable(text, upstream.ApiKey) + ")";
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
        {
            return "";
        }
    }
}

/// <summary>An error answer (RFC 9457), read for its title and detail only.</summary>
public sealed record UpstreamProblem(string? Title, string? Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(UpstreamProblem))]
internal sealed partial class UpstreamProblemJsonContext : JsonSerializerContext;
