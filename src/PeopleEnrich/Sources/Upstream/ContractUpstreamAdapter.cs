using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PeopleEnrich.Answers;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Protocol "contract": an API that speaks our own contract (Tamtam's v2, another PeopleEnrich). A batch
/// of up to 100 is submitted under an Idempotency-Key, so a retried POST creates (and costs) no second
/// batch, and then polled with "Prefer: wait", so that a PeopleEnrich answers as soon as it is done. The
/// key is sent as Authorization. Anything but the contract's answer is an <see cref="UpstreamException"/>.
/// </summary>
public sealed class ContractUpstreamAdapter(UpstreamChannel channel) : IUpstreamAdapter
{
    public const string Protocol = "contract";

    private const string EnrichPath = "v2/people/enrich";

    // The contract's header; spelled here, not borrowed from our own endpoints: this is a client of any server of the contract.
    private const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly TimeSpan LongestPreferredWait = TimeSpan.FromSeconds(30);

    /// <summary>The contract's largest batch.</summary>
    public int MaxBatchSize => 100;

    public async Task<IUpstreamSubmission> SubmitAsync(IReadOnlyList<UpstreamAsk> asks, CancellationToken cancellationToken)
    {
        // Serialised once, so that every retry sends the same bytes under the same Idempotency-Key.
        var submission = new ContractSubmission(asks.Select(Request).ToList());
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(submission, ContractJsonContext.Default.ContractSubmission));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, EnrichPath) { Content = body };
        request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, "peopleenrich-" + Guid.CreateVersion7().ToString("N"));
        var accepted = await SendAsync(request, ContractJsonContext.Default.ContractAccepted, cancellationToken);
        return accepted.RequestId is { Length: > 0 } requestId
            ? new Batch(this, requestId, asks.Count)
            : throw new UpstreamException("accepted the batch without a request_id");
    }

    /// <summary>The contract's item for one person: the person as given, and the names of the fields asked.</summary>
    public static ContractPerson Request(UpstreamAsk ask) => new(
        ask.Person.FirstName, ask.Person.LastName, ask.Person.Domain, ask.Person.CompanyName, ask.Person.LinkedInUrl,
        EnrichFieldNames.Canonical(ask.Fields).Split(','));

    /// <summary>A done item in our terms: a COMPLETED one is a report; any other status declines, with the item's error.</summary>
    public static UpstreamAnswer Read(ContractItemResult result) => result.Status == ContractStatus.Completed
        ? new UpstreamAnswer.Reported(
            (result.Emails ?? []).OfType<ContractEmail>().Select(email => new ReportedEmail(email.Email, Observation(email.Status), email.Status)).ToList(),
            (result.Phones ?? []).OfType<ContractPhone>().Select(phone => new ReportedPhone(phone.Number, phone.Region)).ToList())
        : new UpstreamAnswer.Declined(result.Status ?? "no status", result.Error);

    /// <summary>The contract's statuses are observations for our verdict, under the upstream's name, not statuses of ours.</summary>
    private static EmailObservation Observation(string? status) => status switch
    {
        EmailStatus.Deliverable => EmailObservation.UpstreamDeliverable,
        EmailStatus.HighProbability => EmailObservation.UpstreamHighProbability,
        EmailStatus.CatchAll => EmailObservation.UpstreamCatchAll,
        EmailStatus.Invalid => EmailObservation.UpstreamInvalid,
        // UNKNOWN, or a status the contract does not know: the upstream names the address, with no verdict.
        _ => EmailObservation.Listed,
    };

    /// <summary>Polls a batch, asking the upstream to hold the answer while it is processing.</summary>
    private async Task<ContractBatchStatus> PollAsync(string requestId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{Uri.EscapeDataString(requestId)}");
        if (PreferredWait >= TimeSpan.FromSeconds(1))
        {
            request.Headers.TryAddWithoutValidation("Prefer", "wait=" + ((int)PreferredWait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }

        return await SendAsync(request, ContractJsonContext.Default.ContractBatchStatus, cancellationToken);
    }

    /// <summary>Held polls answer as soon as the batch is done; half an attempt's time leaves room for the answer.</summary>
    private TimeSpan PreferredWait
    {
        get
        {
            var upstream = channel.Upstream;
            var wait = upstream.PollInterval < upstream.AttemptTimeout / 2 ? upstream.PollInterval : upstream.AttemptTimeout / 2;
            return wait > LongestPreferredWait ? LongestPreferredWait : wait;
        }
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        request.Headers.TryAddWithoutValidation("Authorization", channel.Upstream.ApiKey);
        using var response = await channel.SendAsync(request, cancellationToken);
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

    /// <summary>A submitted batch, by the request id the upstream gave it.</summary>
    private sealed class Batch(ContractUpstreamAdapter adapter, string requestId, int size) : IUpstreamSubmission
    {
        public async Task<UpstreamProgress> PollAsync(CancellationToken cancellationToken)
        {
            var batch = await adapter.PollAsync(requestId, cancellationToken);
            var processing = batch.Status == ContractStatus.Processing;
            if (batch.Results is { } results)
            {
                // An item without a status is not done: if the batch is, the batcher says that is an answer outside the contract.
                return new UpstreamProgress(
                    results.Select(result => result is { Status: { } status } && status != ContractStatus.Processing ? Read(result) : null).ToList(),
                    StillWorking: processing);
            }

            return processing
                ? new UpstreamProgress(new UpstreamAnswer?[size], StillWorking: true)
                : throw new UpstreamException($"answered {batch.Status ?? "no status"} without results");
        }
    }
}
