namespace PeopleEnrich.Api;

// The wire shapes of the contract (Contract/openapi.yaml), snake_case on the wire.

public sealed record EnrichPeopleOutputBody(string RequestId, string Status, long ItemCount);

public sealed record GetEnrichPeopleStatusOutputBody(string RequestId, string Status, long ItemCount, IReadOnlyList<EnrichPeopleResult> Results);

public sealed record EnrichPeopleResult(
    string EnrichmentType,
    string Status,
    IReadOnlyDictionary<string, string>? Custom,
    IReadOnlyList<EnrichedEmail>? Emails,
    string? MostProbableEmail,
    IReadOnlyList<EnrichedPhone>? Phones,
    string? Error);

public sealed record EnrichedEmail(string Email, string Status);

public sealed record EnrichedPhone(string Number, string Region);

public sealed record GetCreditsOutputBody(IReadOnlyList<CreditLine> Credits);

public sealed record CreditLine(string CreditType, long UsedCredits, long TotalCredits, long RemainingCredits);

/// <summary>RFC 9457 problem details, as the contract's ErrorModel.</summary>
public sealed record ErrorModel(string Type, string Title, int Status, string Detail, string? Instance, IReadOnlyList<ErrorDetail>? Errors);

public sealed record ErrorDetail(string Location, string Message, System.Text.Json.JsonElement? Value)
{
    /// <summary>A violation whose offending value is a piece of text (a header, a path segment).</summary>
    public static ErrorDetail WithText(string location, string message, string value) =>
        new(location, message, System.Text.Json.JsonSerializer.SerializeToElement(value, Json.ApiJsonContext.Default.String));
}

// Extension: GET /api/v2/people/enrich/{RequestID}/evidence.

public sealed record GetEnrichPeopleEvidenceOutputBody(string RequestId, IReadOnlyList<ItemEvidence> Results);

public sealed record ItemEvidence(IReadOnlyList<EmailEvidenceOutput> Emails, IReadOnlyList<PhoneEvidenceOutput> Phones);

public sealed record EmailEvidenceOutput(string Email, string Status, IReadOnlyList<EvidenceOutput> Evidence);

public sealed record PhoneEvidenceOutput(string Number, string Region, IReadOnlyList<EvidenceOutput> Evidence);

/// <summary>One sighting, flat as the contract's Evidence: <see cref="Source"/> says which other fields it carries.</summary>
public sealed record EvidenceOutput(
    string Source,
    DateTime ObservedAt,
    string? MxHost = null,
    string? Reply = null,
    bool? CatchAll = null,
    string? Url = null,
    string? File = null,
    long? Line = null,
    string? Provider = null,
    string? Status = null,
    string? Pattern = null,
    IReadOnlyList<string>? Supporting = null);

// Extension: GET /api/v2/people/enrich, the caller's requests, newest first.

public sealed record ListEnrichPeopleOutputBody(IReadOnlyList<EnrichRequestSummary> Requests, string? NextCursor);

/// <summary>One request and its progress: <see cref="DoneCount"/> items have left PROCESSING (COMPLETED or FAILED).</summary>
public sealed record EnrichRequestSummary(string RequestId, string Status, long ItemCount, long DoneCount, DateTimeOffset CreatedAt);

// Extension: POST /api/v2/people/bounces, bounce feedback.
public sealed record ReportBouncesOutputBody(IReadOnlyList<BounceResult> Results);

/// <param name="RequestId">The request whose charge for the address was (or had been) refunded; absent when none.</param>
public sealed record BounceResult(string Email, bool Refunded, string Reason, string? RequestId);
