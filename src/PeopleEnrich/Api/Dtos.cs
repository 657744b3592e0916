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
// Extension: the CSV endpoints under /api/v2/people/csv (the web console's, and anyone's).

/// <summary>The columns of each field, by position from 0, best first.</summary>
public sealed record CsvColumns(IReadOnlyList<int> FirstName, IReadOnlyList<int> LastName, IReadOnlyList<int> Domain, IReadOnlyList<int> Company, IReadOnlyList<int> Linkedin);

/// <summary>A data row that will not be sent; <see cref="Row"/> as a spreadsheet numbers it (the header is row 1).</summary>
public sealed record CsvSkippedRow(int Row, string Reason);

public sealed record CsvPreviewOutputBody(
    string FileName,
    string Delimiter,
    bool ByteOrderMark,
    int RowCount,
    IReadOnlyList<string> Headers,
    IReadOnlyList<IReadOnlyList<string>> Sample,
    CsvColumns Recognised,
    CsvColumns Columns,
    IReadOnlyList<string> MissingColumns,
    IReadOnlyList<string> EnrichFields,
    int SendableCount,
    int SkippedCount,
    IReadOnlyList<CsvSkippedRow> Skipped,
    long MaxCredits,
    long RemainingCredits);

public sealed record CsvUploadOutputBody(
    string UploadId,
    string FileName,
    string Status,
    int RowCount,
    int ItemCount,
    int SkippedCount,
    long DoneCount,
    IReadOnlyList<string> EnrichFields,
    IReadOnlyList<string> RequestIds,
    DateTimeOffset CreatedAt);

/// <summary>One row of an upload: who it is (as the file says), and its answer with the evidence behind each address and number.</summary>
public sealed record CsvUploadRow(
    int Row,
    string? Firstname,
    string? Lastname,
    string? Domain,
    string? CompanyName,
    string Status,
    string? Error,
    string? MostProbableEmail,
    IReadOnlyList<EmailEvidenceOutput> Emails,
    IReadOnlyList<PhoneEvidenceOutput> Phones,
    string? RequestId);

public sealed record CsvUploadRowsOutputBody(string UploadId, int Offset, int RowCount, IReadOnlyList<CsvUploadRow> Rows);
