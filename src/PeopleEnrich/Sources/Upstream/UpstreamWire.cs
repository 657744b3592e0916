using System.Text.Json.Serialization;

namespace PeopleEnrich.Sources.Upstream;

// The contract's shapes (Contract/openapi.yaml) as a client sends and reads them. Api/Dtos.cs holds the
// same responses as we write them; here they are read from a server we do not control, so every field
// may be missing and is nullable, to be checked before use.

public sealed record UpstreamSubmission(IReadOnlyList<UpstreamPerson> Requests);

public sealed record UpstreamPerson(
    string Firstname,
    string Lastname,
    string Domain,
    string? CompanyName,
    string? LinkedinUrl,
    IReadOnlyList<string> EnrichFields);

public sealed record UpstreamAccepted(string? RequestId, string? Status, long? ItemCount);

public sealed record UpstreamBatchStatus(string? RequestId, string? Status, long? ItemCount, IReadOnlyList<UpstreamItemResult?>? Results);

public sealed record UpstreamItemResult(
    string? EnrichmentType,
    string? Status,
    IReadOnlyList<UpstreamEmail?>? Emails,
    string? MostProbableEmail,
    IReadOnlyList<UpstreamPhone?>? Phones,
    string? Error);

public sealed record UpstreamEmail(string? Email, string? Status);

public sealed record UpstreamPhone(string? Number, string? Region);

/// <summary>An error answer (RFC 9457), read for its title and detail only.</summary>
public sealed record UpstreamProblem(string? Title, string? Detail);

/// <summary>The contract's batch and item statuses.</summary>
public static class UpstreamStatus
{
    public const string Processing = "PROCESSING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UpstreamSubmission))]
[JsonSerializable(typeof(UpstreamAccepted))]
[JsonSerializable(typeof(UpstreamBatchStatus))]
[JsonSerializable(typeof(UpstreamProblem))]
public sealed partial class UpstreamJsonContext : JsonSerializerContext;
