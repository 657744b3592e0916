using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using PeopleEnrich.Answers;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Uploads;
using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Api.Uploads;

/// <summary>
/// A CSV sent to the csv endpoints (extension): the file, as the body (text/csv) or as the one file of a
/// multipart/form-data body, read by the same code as the <c>enrich</c> command, with the options of the query:
/// <c>name</c> (the file's name), <c>fields</c> and the columns chosen.
/// </summary>
public sealed record UploadedCsv(LeadFile File, byte[] Content, LeadColumns Recognised, LeadColumns Columns, EnrichFields Fields)
{
    /// <summary>Rows one upload may hold.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Bytes one upload may hold: 10,000 generous rows.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>The query parameters that choose columns, with the field each chooses for.</summary>
    public static readonly IReadOnlyList<(string Name, LeadField Field)> ColumnParameters =
    [
        ("first_name", LeadField.FirstName),
        ("last_name", LeadField.LastName),
        ("domain", LeadField.Domain),
        ("company", LeadField.Company),
        ("linkedin", LeadField.LinkedIn),
    ];

    private static readonly string[] CsvMediaTypes = ["text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "application/octet-stream"];

    public static async Task<(UploadedCsv? Upload, ApiProblem? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<ErrorDetail>();
        var fields = ReadFields(request.Query, errors);
        var (content, fileName, problem) = await ReadBodyAsync(request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        LeadFile file;
        try
        {
            file = LeadFile.Read(content!, fileName!);
        }
        catch (LeadFileException exception)
        {
            return (null, ApiProblem.Unprocessable([ErrorDetail.WithText("body", exception.Message, fileName!)]));
        }

        if (file.Rows.Count > MaxRows)
        {
            return (null, ApiProblem.PayloadTooLarge(
                $"{fileName} has {file.Rows.Count.ToString("N0", CultureInfo.InvariantCulture)} rows; one upload may hold up to {MaxRows.ToString("N0", CultureInfo.InvariantCulture)}. Split the file and upload each part."));
        }

        var recognised = LeadColumns.Recognise(file.Headers);
        var columns = ReadColumns(request.Query, file.Headers, errors) is { } chosen ? LeadColumns.Chosen(file.Headers, chosen) : recognised;
        return errors.Count > 0
            ? (null, ApiProblem.Unprocessable(errors))
            : (new UploadedCsv(file, content!, recognised, columns, fields), null);
    }

    /// <summary>
    /// The rows as the API takes them, each checked by the POST's own reader (<see cref="EnrichRequestReader"/>), so that
    /// a row the API would refuse is skipped with its words instead of costing its whole batch a 422.
    /// </summary>
    public UploadPlan Plan(EnrichRequestReader reader)
    {
        var (leads, skipped) = Leads.Read(File, Columns);
        var refused = skipped.Select(s => new SkippedUploadRow(s.Row.Index, s.Reason)).ToList();
        var items = new List<(int Row, SubmittedItem Item)>();
        foreach (var lead in leads)
        {
            using var body = JsonDocument.Parse(BodyOf(lead).ToJsonString());
            if (reader.TryRead(body.RootElement, out var read, out var errors))
            {
                items.Add((lead.Row.Index, read[0]));
            }
            else
            {
                refused.Add(new SkippedUploadRow(lead.Row.Index, string.Join(", ", errors.Select(e => $"{e.Location.Replace("body.requests[0].", "", StringComparison.Ordinal)} {e.Message}"))));
            }
        }

        return new UploadPlan(items, refused.OrderBy(s => s.Row).ToList());
    }

    /// <summary>The file's name with ".enriched" before its extension, as the command line names its output.</summary>
    public static string EnrichedName(string fileName) =>
        Path.GetFileNameWithoutExtension(fileName) + ".enriched" + (Path.GetExtension(fileName) is { Length: > 0 } extension ? extension : ".csv");

    private JsonObject BodyOf(Lead lead)
    {
        var person = new JsonObject
        {
            ["firstname"] = lead.FirstName,
            ["lastname"] = lead.LastName,
            ["domain"] = lead.Domain,
            ["enrich_fields"] = new JsonArray([.. FieldNames(Fields).Select(f => (JsonNode)JsonValue.Create(f))]),
        };
        if (lead.Company is not null)
        {
            person["company_name"] = lead.Company;
        }

        if (lead.LinkedInUrl is not null)
        {
            person["linkedin_url"] = lead.LinkedInUrl;
        }

        return new JsonObject { ["requests"] = new JsonArray(person) };
    }

    public static IReadOnlyList<string> FieldNames(EnrichFields fields) =>
        [.. fields.HasFlag(EnrichFields.Emails) ? [EnrichFieldNames.Emails] : Array.Empty<string>(), .. fields.HasFlag(EnrichFields.Phones) ? [EnrichFieldNames.Phones] : Array.Empty<string>()];

    /// <summary><c>fields</c>: emails, phones or both (comma-separated; contact.emails and contact.phones too); both when absent.</summary>
    private static EnrichFields ReadFields(IQueryCollection query, List<ErrorDetail> errors)
    {
        if (!query.TryGetValue("fields", out var values))
        {
            return EnrichFields.Emails | EnrichFields.Phones;
        }

        var fields = EnrichFields.None;
        foreach (var name in values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            var field = name.ToLowerInvariant() switch
            {
                "emails" or EnrichFieldNames.Emails => EnrichFields.Emails,
                "phones" or EnrichFieldNames.Phones => EnrichFields.Phones,
                _ => EnrichFields.None,
            };
            if (field == EnrichFields.None)
            {
                errors.Add(ErrorDetail.WithText("query.fields", "expected emails, phones or both, comma-separated", name));
            }

            fields |= field;
        }

        if (fields == EnrichFields.None && errors.Count == 0)
        {
            errors.Add(ErrorDetail.WithText("query.fields", "ask for emails, phones or both", values.ToString()));
        }

        return fields;
    }

    /// <summary>
    /// The columns chosen: when any of <see cref="ColumnParameters"/> is in the query, exactly those (each a comma-separated
    /// list of column positions from 0, best first; empty for none); otherwise null, and the recognised columns apply.
    /// </summary>
    private static Dictionary<LeadField, IReadOnlyList<int>>? ReadColumns(IQueryCollection query, IReadOnlyList<string> headers, List<ErrorDetail> errors)
    {
        if (!ColumnParameters.Any(p => query.ContainsKey(p.Name)))
        {
            return null;
        }

        var chosen = new Dictionary<LeadField, IReadOnlyList<int>>();
        foreach (var (name, field) in ColumnParameters)
        {
            var positions = new List<int>();
            foreach (var text in query[name].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
            {
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position < headers.Count)
                {
                    positions.Add(position);
                }
                else
                {
                    errors.Add(ErrorDetail.WithText($"query.{name}", $"expected column positions from 0 to {headers.Count - 1}, comma-separated", text));
                }
            }

            chosen[field] = positions;
        }

        return chosen;
    }

    private static async Task<(byte[]? Content, string? Name, ApiProblem? Problem)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, null, TooLarge());
        }

        var name = request.Query.TryGetValue("name", out var named) && !string.IsNullOrWhiteSpace(named) ? Path.GetFileName(named.ToString().Trim()) : "upload.csv";
        Stream body;
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = MaxBytes, ValueCountLimit = 16 }, cancellationToken);
            }
            catch (InvalidDataException)
            {
                return (null, null, TooLarge());
            }

            if (form.Files.Count != 1)
            {
                return (null, null, ApiProblem.Unprocessable([new ErrorDetail("body", $"send exactly one file in the form (it has {form.Files.Count})", null)]));
            }

            name = form.Files[0].FileName is { Length: > 0 } fileName ? Path.GetFileName(fileName) : name;
            body = form.Files[0].OpenReadStream();
        }
        else if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && CsvMediaTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            body = request.Body;
        }
        else
        {
            return (null, null, ApiProblem.UnsupportedMediaType("Send the CSV file as the body with Content-Type: text/csv, or as the one file of a multipart/form-data body."));
        }

        // The request's own body is the server's to close; a form file's stream is ours.
        await using (request.HasFormContentType ? body : Stream.Null)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBytes)
                {
                    return (null, null, TooLarge());
                }
            }

            return (buffer.ToArray(), name, null);
        }
    }

    private static ApiProblem TooLarge() =>
        ApiProblem.PayloadTooLarge($"The file is over {MaxBytes / 1024 / 1024} MiB; one upload may hold up to {MaxRows.ToString("N0", CultureInfo.InvariantCulture)} rows. Split the file and upload each part.");
}

/// <summary>The people an upload sends, each with its data row (from 0), and the rows it does not send and why.</summary>
public sealed record UploadPlan(IReadOnlyList<(int Row, SubmittedItem Item)> Items, IReadOnlyList<SkippedUploadRow> Skipped)
{
    public long MaxCredits => Items.Sum(i => i.Item.ReservedCredits);
}
