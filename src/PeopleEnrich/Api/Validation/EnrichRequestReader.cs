using System.Text.Json;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Api.Validation;

/// <summary>
/// Turns a parsed POST body into the batch to store, or into every violation found: first the
/// contract's schema, then the rules its descriptions state in words (control characters, the
/// domain's normal form, non-null lists).
/// </summary>
public sealed class EnrichRequestReader(SchemaValidator schema)
{
    public const string InputSchema = "EnrichPeopleInputBody";
    private const int MaxReportedErrors = 200;

    public bool TryRead(JsonElement body, out IReadOnlyList<SubmittedItem> items, out IReadOnlyList<ErrorDetail> errors)
    {
        var found = schema.Validate(body, InputSchema, "body");
        var result = new List<SubmittedItem>();
        if (body.TryGetProperty("requests", out var requests))
        {
            if (requests.ValueKind == JsonValueKind.Null)
            {
                found.Add(new ErrorDetail("body.requests", "must be a list of 1 to 100 people, not null", null));
            }
            else if (requests.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var request in requests.EnumerateArray())
                {
                    if (request.ValueKind == JsonValueKind.Object && ReadItem(request, $"body.requests[{index}]", found) is { } item)
                    {
                        result.Add(item);
                    }

                    index++;
                }
            }
        }

        items = result;
        errors = Cap(found);
        return found.Count == 0;
    }

    private static SubmittedItem? ReadItem(JsonElement request, string location, List<ErrorDetail> errors)
    {
        var before = errors.Count;
        // enrich_fields is left to the schema's enum, which already names any value it does not know.
        foreach (var property in request.EnumerateObject().Where(p => p.Name != "enrich_fields"))
        {
            RejectControlCharacters(property, SchemaValidator.Property(location, property.Name), errors);
        }

        var firstName = NonBlank(request, "firstname", location, errors);
        var lastName = NonBlank(request, "lastname", location, errors);
        string? domain = null;
        if (request.TryGetProperty("domain", out var domainValue) && domainValue.ValueKind == JsonValueKind.String && domainValue.GetString()!.Length > 0)
        {
            if (DomainName.TryNormalise(domainValue.GetString(), out var normalised, out var problem))
            {
                domain = normalised;
            }
            else
            {
                errors.Add(new ErrorDetail($"{location}.domain", $"not a company domain: the value {problem}", domainValue.Clone()));
            }
        }

        var fields = EnrichFields.None;
        if (request.TryGetProperty("enrich_fields", out var fieldValues))
        {
            if (fieldValues.ValueKind == JsonValueKind.Null)
            {
                errors.Add(new ErrorDetail($"{location}.enrich_fields", "must list at least one of contact.emails, contact.phones, not null", null));
            }
            else if (fieldValues.ValueKind == JsonValueKind.Array)
            {
                foreach (var field in fieldValues.EnumerateArray())
                {
                    // Unknown values were reported by the schema's enum; duplicates are ignored.
                    fields |= field.ValueKind == JsonValueKind.String ? EnrichFieldNames.Parse(field.GetString()!) ?? EnrichFields.None : EnrichFields.None;
                }
            }
        }

        if (errors.Count > before || firstName is null || lastName is null || domain is null || fields == EnrichFields.None)
        {
            return null;
        }

        Dictionary<string, string>? custom = null;
        if (request.TryGetProperty("custom", out var customValue) && customValue.ValueKind == JsonValueKind.Object)
        {
            // Non-string values were reported by the schema; this item is only kept when there were none.
            custom = customValue.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String)
                .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        }

        return new SubmittedItem(new Person(firstName, lastName, domain, OptionalString(request, "company_name"), OptionalString(request, "linkedin_url")), fields, custom);
    }

    private static string? NonBlank(JsonElement request, string name, string location, List<ErrorDetail> errors)
    {
        if (!request.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetString()!;
        if (text.Length > 0 && string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new ErrorDetail($"{location}.{name}", "must not be blank", value.Clone()));
            return null;
        }

        return text.Trim();
    }

    private static string? OptionalString(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Trim() is { Length: > 0 } text ? text : null;

    // The contract: any string of the item (names, company, URL, custom keys and values) holding
    // U+0000 to U+001F or U+007F is a 422 at its location.
    private static void RejectControlCharacters(JsonProperty property, string location, List<ErrorDetail> errors)
    {
        switch (property.Value.ValueKind)
        {
            case JsonValueKind.String when HasControlCharacter(property.Value.GetString()!):
                errors.Add(new ErrorDetail(location, "contains a control character (U+0000 to U+001F or U+007F)", property.Value.Clone()));
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var element in property.Value.EnumerateArray())
                {
                    if (element.ValueKind == JsonValueKind.String && HasControlCharacter(element.GetString()!))
                    {
                        errors.Add(new ErrorDetail($"{location}[{index}]", "contains a control character (U+0000 to U+001F or U+007F)", element.Clone()));
                    }

                    index++;
                }

                break;
            case JsonValueKind.Object:
                foreach (var entry in property.Value.EnumerateObject())
                {
                    if (HasControlCharacter(entry.Name))
                    {
                        errors.Add(new ErrorDetail(location, "a key contains a control character (U+0000 to U+001F or U+007F)", null));
                    }
                    else
                    {
                        RejectControlCharacters(entry, SchemaValidator.Property(location, entry.Name), errors);
                    }
                }

                break;
        }
    }

    private static bool HasControlCharacter(string text) => text.Any(c => c < '\u0020' || c == '\u007F');

    private static List<ErrorDetail> Cap(List<ErrorDetail> errors)
    {
        if (errors.Count <= MaxReportedErrors)
        {
            return errors;
        }

        var capped = errors.Take(MaxReportedErrors).ToList();
        capped.Add(new ErrorDetail("body", $"and {errors.Count - MaxReportedErrors} more violations of the same kinds, not listed", null));
        return capped;
    }
}
