using System.Text.Json;
using PeopleEnrich.Api;
using PeopleEnrich.Api.Json;
using PeopleEnrich.Pipeline.Batches;

namespace PeopleEnrich.Webhooks;

/// <summary>
/// The body of an enrichment.completed event: {"type", "timestamp", "data"}, where data is exactly what GET of the request
/// answers (the same wire builder, the same serializer options). Rendered at each attempt from the stored batch, so the
/// outbox holds no personal data, and an erasure or the retention sweep between two attempts is honoured by the next.
/// </summary>
public sealed class CompletionEvent(BatchStore batches)
{
    public const string Type = "enrichment.completed";

    /// <summary>The body, or null when the request no longer exists (deleted by retention).</summary>
    public async Task<byte[]?> RenderAsync(ClaimedEvent claimed, CancellationToken cancellationToken)
    {
        if (await batches.FindAsync(claimed.AccountId, claimed.BatchId, cancellationToken) is not { } batch)
        {
            return null;
        }

        var data = JsonSerializer.SerializeToUtf8Bytes(WireAnswers.Status(batch), ApiJson.Options.GetTypeInfo(typeof(GetEnrichPeopleStatusOutputBody)));
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("type", Type);
            writer.WriteString("timestamp", claimed.CreatedAt.UtcDateTime);
            writer.WritePropertyName("data");
            writer.WriteRawValue(data, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return body.ToArray();
    }
}
