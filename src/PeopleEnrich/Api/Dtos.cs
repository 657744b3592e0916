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

/// <summary>An item's result as stored on its row once settled (and in the results cache).</summary>
public sealed record StoredResult(IReadOnlyList<EnrichedEmail> Emails, string? MostProbableEmail, IReadOnlyList<EnrichedPhone> Phones)
{
    public static StoredResult Of(Pipeline.Waterfall.EnrichmentOutcome outcome) => new(
        outcome.Emails.Select(e => new EnrichedEmail(e.Email, e.Status)).ToList(),
        outcome.MostProbableEmail,
        outcome.Phones.Select(p => new EnrichedPhone(p.Number, p.Region)).ToList());

    public static StoredResult FromJson(string json) => System.Text.Json.JsonSerializer.Deserialize(json, Json.ApiJsonContext.Default.StoredResult)!;

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, Json.ApiJsonContext.Default.StoredResult);

    public Pipeline.Waterfall.EnrichmentOutcome ToOutcome() => new(
        Emails.Select(e => new Pipeline.Waterfall.FoundEmail(e.Email, e.Status)).ToList(),
        MostProbableEmail,
        Phones.Select(p => new Pipeline.Waterfall.FoundPhone(p.Number, p.Region)).ToList());
}
