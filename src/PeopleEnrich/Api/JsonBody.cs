using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace PeopleEnrich.Api;

/// <summary>A request body that is JSON, at most 1 MiB, and an object; with the SHA-256 of its bytes.</summary>
public sealed record JsonBody(JsonDocument Document, byte[] Sha256) : IDisposable
{
    public const int MaxBytes = 1024 * 1024;

    public JsonElement Root => Document.RootElement;

    public void Dispose() => Document.Dispose();

    /// <summary>Reads the body, or says with a 415, 413 or 400 why it cannot be read.</summary>
    /// <param name="expected">What the object must hold, for the 400 that says it is not one.</param>
    public static async Task<(JsonBody? Body, ApiProblem? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken, string expected = "a \"requests\" list")
    {
        if (!request.HasJsonContentType())
        {
            return (null, ApiProblem.UnsupportedMediaType(request.ContentType is null
                ? "The request has no Content-Type; send the body as application/json."
                : $"The Content-Type '{request.ContentType}' is not supported; send the body as application/json."));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
                if (length > MaxBytes)
                {
                    return (null, TooLarge());
                }
            }

            // JsonDocument keeps using the bytes it parsed, so they must outlive the pooled buffer.
            var bytes = buffer.AsSpan(0, length).ToArray();
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException exception)
            {
                return (null, ApiProblem.BadRequest($"The body is not valid JSON: {exception.Message}"));
            }

            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                var kind = Validation.SchemaValidator.KindName(document.RootElement);
                document.Dispose();
                return (null, ApiProblem.BadRequest($"The body must be a JSON object with {expected}; got {kind}."));
            }

            if (!EveryStringDecodes(document.RootElement))
            {
                document.Dispose();
                return (null, ApiProblem.BadRequest("The body is not valid JSON: a string holds bytes that are not UTF-8, or a \\u escape of half a surrogate pair."));
            }

            return (new JsonBody(document, SHA256.HashData(bytes)), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The parser checks a string's UTF-8 and escapes only when the string is read: one that cannot be
    // decoded ("\ud800" alone, bytes that are not UTF-8) would otherwise throw deep in validation, a 500.
    // Depth is bounded by MaxDepth.
    private static bool EveryStringDecodes(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    return element.EnumerateObject().All(property => property.Name is not null && EveryStringDecodes(property.Value));
                case JsonValueKind.Array:
                    return element.EnumerateArray().All(EveryStringDecodes);
                case JsonValueKind.String:
                    return element.GetString() is not null;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static ApiProblem TooLarge() =>
        ApiProblem.PayloadTooLarge($"The body is over {MaxBytes / 1024 / 1024} MiB; send at most 100 people per request.");
}
