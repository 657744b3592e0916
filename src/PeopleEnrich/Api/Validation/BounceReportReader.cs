using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PeopleEnrich.Bounces;
using PeopleEnrich.Normalisation;

namespace PeopleEnrich.Api.Validation;

/// <summary>
/// Turns a POST /api/v2/people/bounces body into the addresses it reports, or into every violation found: the contract's
/// schema first, then what its descriptions say in words (a plain address, an RFC 3339 time not in the future).
/// </summary>
public sealed partial class BounceReportReader(SchemaValidator schema, TimeProvider time)
{
    public const string InputSchema = "ReportBouncesInputBody";

    /// <summary>Clocks differ: a bounce a little in the future of ours is the caller's clock, not a mistake.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public bool TryRead(JsonElement body, out IReadOnlyList<ReportedAddress> addresses, out IReadOnlyList<ErrorDetail> errors)
    {
        var found = schema.Validate(body, InputSchema, "body");
        var result = new List<ReportedAddress>();
        if (body.TryGetProperty("emails", out var emails) && emails.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var entry in emails.EnumerateArray())
            {
                if (Read(entry, $"body.emails[{index++}]", found) is { } address)
                {
                    result.Add(address);
                }
            }
        }

        addresses = result;
        errors = found;
        return found.Count == 0;
    }

    private ReportedAddress? Read(JsonElement entry, string location, List<ErrorDetail> errors)
    {
        switch (entry.ValueKind)
        {
            case JsonValueKind.String:
                return Address(entry, location, errors) is { } plain ? new ReportedAddress(plain, null, null) : null;
            case JsonValueKind.Object when entry.TryGetProperty("email", out var email) && email.ValueKind == JsonValueKind.String:
                var address = Address(email, $"{location}.email", errors);
                var bouncedAt = entry.TryGetProperty("bounced_at", out var at) && at.ValueKind == JsonValueKind.String ? When(at, $"{location}.bounced_at", errors) : null;
                var reply = entry.TryGetProperty("reply", out var said) && said.ValueKind == JsonValueKind.String ? said.GetString() : null;
                return address is null ? null : new ReportedAddress(address, bouncedAt, reply);
            default:
                return null; // the schema said why
        }
    }

    private static string? Address(JsonElement value, string location, List<ErrorDetail> errors)
    {
        if (EmailAddress.TryNormalise(value.GetString(), out var address, out var problem))
        {
            return address;
        }

        errors.Add(new ErrorDetail(location, $"not an email address: the value {problem}", value.Clone()));
        return null;
    }

    private DateTimeOffset? When(JsonElement value, string location, List<ErrorDetail> errors)
    {
        var text = value.GetString()!;
        if (!Rfc3339().IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            errors.Add(new ErrorDetail(location, "must be an RFC 3339 date-time, such as 2026-12-01T09:30:00Z", value.Clone()));
            return null;
        }

        if (at > time.GetUtcNow() + ClockSkew)
        {
            errors.Add(new ErrorDetail(location, "is in the future: give when the bounce was received", value.Clone()));
            return null;
        }

        return at;
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex Rfc3339();
}
