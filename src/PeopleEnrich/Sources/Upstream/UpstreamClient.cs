using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// The two calls of the contract, made to one upstream through its named HttpClient (and so through
/// its resilience pipeline): submit a batch, poll it. Anything but the contract's answer is an
/// <see cref="UpstreamException"/>.
/// </summary>
public sealed class UpstreamClient(IHttpClientFactory clients, string clientName, UpstreamOptions upstream)
{
    private const string EnrichPath = "v2/people/enrich";

    // The contract's header; spelled here, not borrowed from our own endpoints: this is a client of any server of the contract.
    private const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The HttpClient (and resilience pipeline) name of Upstreams:N.</summary>
    public static string ClientName(int index) => "upstream-" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Submits a batch of up to 100 people and returns the upstream's request id.</summary>
    public async Task<string> SubmitAsync(IReadOnlyList<UpstreamPerson> people, string idempotencyKey, CancellationToken cancellationToken)
    {
        // Serialised once, so that every retry sends the same bytes under the same Idempotency-Key.
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new UpstreamSubmission(people), UpstreamJsonContext.Default.UpstreamSubmission));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, EnrichPath) { Content = body };
        request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        var accepted = await SendAsync(request, UpstreamJsonContext.Default.UpstreamAccepted, cancellationToken);
        return accepted.RequestId is { Length: > 0 } requestId
            ? requestId
            : throw new UpstreamException("accepted the batch without a request_id");
    }

    /// <summary>Polls a batch, asking the upstream to hold the answer up to <paramref name="wait"/> (whole seconds, from 1) while it is processing.</summary>
    public async Task<UpstreamBatchStatus> PollAsync(string requestId, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{Uri.EscapeDataString(requestId)}");
        if (wait >= TimeSpan.FromSeconds(1))
        {
            request.Headers.TryAddWithoutValidation("Prefer", "wait=" + ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }

        return await SendAsync(request, UpstreamJsonContext.Default.UpstreamBatchStatus, cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        request.Headers.TryAddWithoutValidation("Authorization", upstream.ApiKey);
        var http = clients.CreateClient(clientName);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new UpstreamException($"answered {(int)response.StatusCode}{await ProblemAsync(response, cancellationToken)}");
        }

        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken)
                ?? throw new UpstreamException("answered null instead of the contract's body");
        }
        catch (JsonException)
        {
            throw new UpstreamException($"answered {(int)response.StatusCode} with a body that is not the contract's JSON");
        }
    }

    /// <summary>The problem's title and detail, made safe to log; nothing when the body is not a problem.</summary>
    private async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync(UpstreamJsonContext.Default.UpstreamProblem, cancellationToken);
            var text = string.Join(": ", new[] { problem?.Title, problem?.Detail }.Where(part => !string.IsNullOrWhiteSpace(part)));
            return text.Length == 0 ? "" : " (" + ForeignText.Loggable(text, upstream.ApiKey) + ")";
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
        {
            return "";
        }
    }
}

/// <summary>An upstream answered something other than the contract's answer; the message is safe to log.</summary>
public sealed class UpstreamException(string message) : Exception(message);
