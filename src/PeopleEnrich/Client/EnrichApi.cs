using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PeopleEnrich.Client;

/// <summary>
/// The three standard operations of the contract (submit, poll a request, read credits), over HTTP.
/// A 429 is waited out as its Retry-After says and the same request sent again (a submission carries
/// an Idempotency-Key, so it can never be counted twice); a dropped connection or a 5xx is retried a
/// few times with growing pauses. What cannot be recovered from is an <see cref="EnrichApiException"/>
/// with one line for the user.
/// </summary>
internal sealed class EnrichApi(HttpClient http, TimeProvider time, Action<TimeSpan> rateLimited)
{
    private const int Attempts = 6;
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PollGap = TimeSpan.FromSeconds(2);

    /// <summary>The account's credits; <paramref name="retry"/> false for the first call, so a wrong address or key is said at once rather than after a minute of retries.</summary>
    public async Task<CreditLineAnswer> CreditsAsync(bool retry, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "api/v2/credits"), HttpStatusCode.OK, ClientJsonContext.Default.CreditsAnswer, "read credits", cancellationToken,
            retry ? Attempts : 1);
        return answer.Credits?.FirstOrDefault() ?? new CreditLineAnswer(null, 0, 0, 0);
    }

    /// <summary>Submits a batch; a 422 naming items comes back as <see cref="RefusedItems"/> rather than thrown.</summary>
    public async Task<SubmitOutcome> SubmitAsync(SubmitBody body, string idempotencyKey, CancellationToken cancellationToken)
    {
        // Serialised once: every retry, and every later run, sends the same bytes under the same key.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, ClientJsonContext.Default.SubmitBody);
        try
        {
            var answer = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/people/enrich") { Content = new ByteArrayContent(bytes) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
                return request;
            }, HttpStatusCode.Accepted, ClientJsonContext.Default.SubmitAnswer, "submit", cancellationToken);
            return new SubmitOutcome.Accepted(answer.RequestId);
        }
        catch (ProblemException problem) when (problem.Status == HttpStatusCode.UnprocessableEntity && ItemsIn(problem.Problem) is { Count: > 0 } items)
        {
            return new SubmitOutcome.RefusedItems(items);
        }
        catch (ProblemException problem) when (problem.Status == HttpStatusCode.PaymentRequired)
        {
            return new SubmitOutcome.NotEnoughCredits(problem.Problem?.Detail);
        }
    }

    /// <summary>Polls until the request leaves PROCESSING (holding each poll with Prefer: wait, pausing between polls where a server answers at once).</summary>
    public async Task<BatchAnswer> WaitForResultAsync(string requestId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var asked = time.GetTimestamp();
            var answer = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"api/v2/people/enrich/{Uri.EscapeDataString(requestId)}");
                request.Headers.TryAddWithoutValidation("Prefer", $"wait={(int)PollWait.TotalSeconds}");
                return request;
            }, HttpStatusCode.OK, ClientJsonContext.Default.BatchAnswer, "read results", cancellationToken);
            if (answer.Status != "PROCESSING")
            {
                return answer;
            }

            if (time.GetElapsedTime(asked) < PollGap)
            {
                await Task.Delay(PollGap, time, cancellationToken);
            }
        }
    }

    private async Task<T> SendAsync<T>(
        Func<HttpRequestMessage> build, HttpStatusCode expected, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what, CancellationToken cancellationToken,
        int attempts = Attempts)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = build();
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt < attempts)
                {
                    await Task.Delay(Backoff(attempt), time, cancellationToken);
                    continue;
                }

                throw new EnrichApiException($"cannot reach the server at {http.BaseAddress}: {Innermost(exception).Message}");
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == expected)
                {
                    try
                    {
                        return JsonSerializer.Deserialize(text, type) ?? throw new JsonException("null");
                    }
                    catch (JsonException)
                    {
                        throw new EnrichApiException($"the server at {http.BaseAddress} answered {what} with something that is not this API's JSON");
                    }
                }

                switch (response.StatusCode)
                {
                    case HttpStatusCode.TooManyRequests:
                        var wait = RetryAfter(response);
                        rateLimited(wait);
                        await Task.Delay(wait, time, cancellationToken);
                        attempt = 0;
                        continue;
                    case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                        throw new EnrichApiException($"the server at {http.BaseAddress} refused the API key ({(int)response.StatusCode}): check --key or {EnrichCommand.KeyVariable}");
                    case >= HttpStatusCode.InternalServerError when attempt < attempts:
                        await Task.Delay(Backoff(attempt), time, cancellationToken);
                        continue;
                    default:
                        throw new ProblemException(response.StatusCode, ReadProblem(text), $"the server refused to {what}: {(int)response.StatusCode} {Describe(ReadProblem(text), text)}");
                }
            }
        }
    }

    private TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => TimeSpan.FromSeconds(1),
        };
        return wait < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : wait > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : wait;
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt - 1)));

    private static Exception Innermost(Exception exception) => exception.InnerException is { } inner ? Innermost(inner) : exception;

    private static ProblemAnswer? ReadProblem(string text)
    {
        try
        {
            return JsonSerializer.Deserialize(text, ClientJsonContext.Default.ProblemAnswer);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(ProblemAnswer? problem, string text)
    {
        if (problem is null)
        {
            return text.Length > 200 ? text[..200] : text;
        }

        var line = new StringBuilder(problem.Detail ?? problem.Title ?? "");
        foreach (var error in problem.Errors ?? [])
        {
            line.Append($"; {error.Location}: {error.Message}");
        }

        return line.ToString();
    }

    /// <summary>The items a 422 names (body.requests[3].domain is item 3), with what was wrong with each.</summary>
    private static Dictionary<int, string> ItemsIn(ProblemAnswer? problem)
    {
        var items = new Dictionary<int, string>();
        foreach (var error in problem?.Errors ?? [])
        {
            const string prefix = "body.requests[";
            if (error.Location is { } location && location.StartsWith(prefix, StringComparison.Ordinal)
                && location.IndexOf(']', prefix.Length) is var end and > 0
                && int.TryParse(location.AsSpan(prefix.Length, end - prefix.Length), out var index))
            {
                var field = location[(end + 1)..].TrimStart('.');
                var message = $"refused by the server: {(field.Length > 0 ? field + " " : "")}{error.Message}";
                items[index] = items.TryGetValue(index, out var earlier) ? $"{earlier}; {message}" : message;
            }
        }

        return items;
    }

    private sealed class ProblemException(HttpStatusCode status, ProblemAnswer? problem, string message) : EnrichApiException(message)
    {
        public HttpStatusCode Status { get; } = status;

        public ProblemAnswer? Problem { get; } = problem;
    }
}

internal abstract record SubmitOutcome
{
    public sealed record Accepted(string RequestId) : SubmitOutcome;

    /// <summary>The server refused these items of the batch (by index), each with why.</summary>
    public sealed record RefusedItems(IReadOnlyDictionary<int, string> Reasons) : SubmitOutcome;

    public sealed record NotEnoughCredits(string? Detail) : SubmitOutcome;
}

/// <summary>A failure of the API the user must act on, in one line.</summary>
internal class EnrichApiException(string message) : Exception(message);
