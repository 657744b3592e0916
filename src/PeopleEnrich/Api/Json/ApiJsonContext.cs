using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeopleEnrich.Api.Json;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EnrichPeopleOutputBody))]
[JsonSerializable(typeof(GetEnrichPeopleStatusOutputBody))]
[JsonSerializable(typeof(GetCreditsOutputBody))]
[JsonSerializable(typeof(GetEnrichPeopleEvidenceOutputBody))]
[JsonSerializable(typeof(ListEnrichPeopleOutputBody))]
[JsonSerializable(typeof(ReportBouncesOutputBody))]
[JsonSerializable(typeof(CsvColumns))]
[JsonSerializable(typeof(CsvPreviewOutputBody))]
[JsonSerializable(typeof(CsvUploadOutputBody))]
[JsonSerializable(typeof(CsvUploadRowsOutputBody))]
[JsonSerializable(typeof(ErrorModel))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(string))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

public static class ApiJson
{
    /// <summary>The wire format: snake_case, nulls left out, and no needless escaping of quotes or accents.</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    }

    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly();
        return options;
    }
}
