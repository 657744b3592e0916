using System.Text.Json.Serialization;

namespace PeopleEnrich.Client;

// The client's own copy of the contract's shapes (Contract/openapi.yaml): only what it sends and reads,
// so that it works against any server of this contract and shares no type with this one.

internal sealed record SubmitBody([property: JsonPropertyName("requests")] IReadOnlyList<PersonToEnrich> Requests);

internal sealed record PersonToEnrich(
    [property: JsonPropertyName("firstname")] string FirstName,
    [property: JsonPropertyName("lastname")] string LastName,
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("company_name")] string? CompanyName,
    [property: JsonPropertyName("linkedin_url")] string? LinkedInUrl,
    [property: JsonPropertyName("enrich_fields")] IReadOnlyList<string> EnrichFields,
    [property: JsonPropertyName("custom")] IReadOnlyDictionary<string, string> Custom);

internal sealed record SubmitAnswer(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("item_count")] long ItemCount);

internal sealed record BatchAnswer(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("item_count")] long ItemCount,
    [property: JsonPropertyName("results")] IReadOnlyList<ItemAnswer>? Results);

internal sealed record ItemAnswer(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("emails")] IReadOnlyList<EmailAnswer>? Emails,
    [property: JsonPropertyName("most_probable_email")] string? MostProbableEmail,
    [property: JsonPropertyName("phones")] IReadOnlyList<PhoneAnswer>? Phones,
    [property: JsonPropertyName("error")] string? Error);

internal sealed record EmailAnswer([property: JsonPropertyName("email")] string Email, [property: JsonPropertyName("status")] string Status);

internal sealed record PhoneAnswer([property: JsonPropertyName("number")] string Number, [property: JsonPropertyName("region")] string? Region);

internal sealed record CreditsAnswer([property: JsonPropertyName("credits")] IReadOnlyList<CreditLineAnswer>? Credits);

internal sealed record CreditLineAnswer(
    [property: JsonPropertyName("credit_type")] string? CreditType,
    [property: JsonPropertyName("used_credits")] long UsedCredits,
    [property: JsonPropertyName("total_credits")] long TotalCredits,
    [property: JsonPropertyName("remaining_credits")] long RemainingCredits);

internal sealed record ProblemAnswer(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("errors")] IReadOnlyList<ProblemDetailAnswer>? Errors);

internal sealed record ProblemDetailAnswer([property: JsonPropertyName("location")] string? Location, [property: JsonPropertyName("message")] string? Message);

// Null optional fields are left out: a server may not accept "company_name": null.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SubmitBody))]
[JsonSerializable(typeof(SubmitAnswer))]
[JsonSerializable(typeof(BatchAnswer))]
[JsonSerializable(typeof(CreditsAnswer))]
[JsonSerializable(typeof(ProblemAnswer))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
