using System.Text.Json.Serialization;

namespace PeopleEnrich.Sources.Upstream;

// The contract's shapes (Contract/openapi.yaml) as a client sends and reads them, for ContractUpstreamAdapter.
// Api/Dtos.cs holds the same responses as we write them; here they are read from a server we do not
// control, so every field may be missing and is nullable, to be checked before use.

public sealed record ContractSubmission(IReadOnlyList<ContractPerson> Requests);

public sealed record ContractPerson(
    string Firstname,
    string Lastname,
    string Domain,
    string? CompanyName,
    string? LinkedinUrl,
    IReadOnlyList<string> EnrichFields);

public sealed record ContractAccepted(string? RequestId, string? Status, long? ItemCount);

public sealed record ContractBatchStatus(string? RequestId, string? Status, long? ItemCount, IReadOnlyList<ContractItemResult?>? Results);

public sealed record ContractItemResult(
    string? EnrichmentType,
    string? Status,
    IReadOnlyList<ContractEmail?>? Emails,
    string? MostProbableEmail,
    IReadOnlyList<ContractPhone?>? Phones,
    string? Error);

public sealed record ContractEmail(string? Email, string? Status);

public sealed record ContractPhone(string? Number, string? Region);

/// <summary>The contract's batch and item statuses.</summary>
public static class ContractStatus
{
    public const string Processing = "PROCESSING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContractSubmission))]
[JsonSerializable(typeof(ContractAccepted))]
[JsonSerializable(typeof(ContractBatchStatus))]
public sealed partial class ContractJsonContext : JsonSerializerContext;
