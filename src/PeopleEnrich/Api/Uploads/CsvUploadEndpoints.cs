using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PeopleEnrich.Accounts;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Api.Json;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Uploads;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Api.Uploads;

/// <summary>
/// A spreadsheet in and out over HTTP (extension): preview a CSV, enrich it (split into requests of 100, each accepted
/// as a POST is), follow it, read its rows with their evidence, and download it enriched with the command line's columns.
/// </summary>
public static class CsvUploadEndpoints
{
    public const string Path = "/api/v2/people/csv";
    private const int ShownSkipped = 100;
    private const int SampleRows = 3;
    private const int MaxRowsPage = 500;

    public static IEndpointRouteBuilder MapCsvUploads(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Path).RequireAuthorization();
        group.MapPost("/preview", PreviewAsync);
        group.MapPost("/enrich", EnrichAsync);
        group.MapGet("/{UploadID}", StatusAsync);
        group.MapGet("/{UploadID}/rows", RowsAsync);
        group.MapGet("/{UploadID}/enriched", EnrichedAsync);
        return app;
    }

    private static async Task<Results<Ok<CsvPreviewOutputBody>, ApiProblem>> PreviewAsync(
        HttpContext http, EnrichRequestReader reader, AccountStore accounts, CancellationToken cancellationToken)
    {
        var (upload, problem) = await UploadedCsv.ReadAsync(http.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var file = upload!.File;
        var plan = upload.Plan(reader);
        var balance = await accounts.GetBalanceAsync(http.User.AccountId(), cancellationToken);
        return TypedResults.Ok(new CsvPreviewOutputBody(
            file.Name,
            file.Delimiter.ToString(),
            file.HasByteOrderMark,
            file.Rows.Count,
            file.Headers,
            file.Rows.Take(SampleRows).Select(r => (IReadOnlyList<string>)r.Fields).ToList(),
            Wire(upload.Recognised),
            Wire(upload.Columns),
            MissingColumns(upload.Columns),
            UploadedCsv.FieldNames(upload.Fields),
            plan.Items.Count,
            plan.Skipped.Count,
            plan.Skipped.Take(ShownSkipped).Select(Skipped).ToList(),
            plan.MaxCredits,
            balance.Remaining));
    }

    private static async Task<Results<Accepted<CsvUploadOutputBody>, Ok<CsvUploadOutputBody>, ApiProblem>> EnrichAsync(
        HttpContext http, EnrichRequestReader reader, UploadStore uploads, WorkSignal work, CancellationToken cancellationToken)
    {
        var (upload, problem) = await UploadedCsv.ReadAsync(http.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var missing = MissingColumns(upload!.Columns);
        if (missing.Count > 0)
        {
            return ApiProblem.Unprocessable(missing.Select(name => ErrorDetail.WithText($"query.{name}",
                $"the file has no {name.Replace('_', ' ')} column: choose one (its position from 0)", string.Join(", ", upload.File.Headers))).ToList());
        }

        var plan = upload.Plan(reader);
        if (plan.Items.Count == 0)
        {
            return ApiProblem.Unprocessable([new ErrorDetail("body", $"no row of the file can be sent ({plan.Skipped.Count} rows skipped; the preview says why)", null)]);
        }

        var keyErrors = new List<ErrorDetail>();
        if (EnrichEndpoints.ReadIdempotencyKey(http.Request, keyErrors) is var key && keyErrors.Count > 0)
        {
            return ApiProblem.Unprocessable(keyErrors);
        }

        var columnsJson = JsonSerializer.Serialize(Wire(upload.Columns), ApiJsonContext.Default.CsvColumns);
        var claim = key is null ? null : new IdempotencyClaim(key, SHA256.HashData([.. upload.Content, .. Encoding.UTF8.GetBytes($"|{columnsJson}|{(int)upload.Fields}")]));
        var result = await uploads.SubmitAsync(http.User.AccountId(), new NewUpload(
            upload.File.Name,
            upload.Content,
            columnsJson,
            upload.Fields,
            upload.File.Rows.Count,
            plan.Items.Select(i => i.Item).Chunk(StoredUpload.BatchSize).Select(c => (IReadOnlyList<SubmittedItem>)c).ToList(),
            plan.Items.Select(i => i.Row).ToList(),
            plan.Skipped), claim, cancellationToken);
        switch (result)
        {
            case UploadResult.Accepted accepted:
                if (accepted.Replayed)
                {
                    return TypedResults.Ok(await StatusOfAsync(accepted.Upload, uploads, cancellationToken));
                }

                work.Pulse();
                return TypedResults.Accepted($"{Path}/{accepted.Upload.Id}", await StatusOfAsync(accepted.Upload, uploads, cancellationToken));
            case UploadResult.InsufficientCredits insufficient:
                return ApiProblem.PaymentRequired(
                    $"This file needs {insufficient.Required} credits (1 per row asking for emails, 10 per row asking for phones; only what is found is charged) and the account has {insufficient.Remaining} left. Nothing was sent.");
            default:
                return ApiProblem.Unprocessable([ErrorDetail.WithText($"header.{EnrichEndpoints.IdempotencyKeyHeader}",
                    "this key was already used with a different file or columns in the last 24 hours; use a new key for a new upload", key ?? "")]);
        }
    }

    private static async Task<Results<Ok<CsvUploadOutputBody>, ApiProblem>> StatusAsync(
        string UploadID, HttpContext http, UploadStore uploads, CancellationToken cancellationToken) =>
        await FindAsync(UploadID, http, uploads, cancellationToken) is { } upload
            ? TypedResults.Ok(await StatusOfAsync(upload, uploads, cancellationToken))
            : NoSuchUpload(UploadID);

    private static async Task<Results<Ok<CsvUploadRowsOutputBody>, ApiProblem>> RowsAsync(
        string UploadID, HttpContext http, UploadStore uploads, BatchStore batches, CancellationToken cancellationToken)
    {
        var errors = new List<ErrorDetail>();
        var offset = ReadNumber(http.Request.Query, "offset", 0, 0, int.MaxValue, errors);
        var limit = ReadNumber(http.Request.Query, "limit", 100, 1, MaxRowsPage, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Unprocessable(errors);
        }

        if (await FindAsync(UploadID, http, uploads, cancellationToken) is not { } upload)
        {
            return NoSuchUpload(UploadID);
        }

        var (file, columns) = Reread(upload);
        var answers = await AnswersAsync(upload, batches, Enumerable.Range(offset, Math.Max(0, Math.Min(limit, file.Rows.Count - offset))), cancellationToken);
        var skipped = upload.Skipped.ToDictionary(s => s.Row, s => s.Reason);
        var rows = answers.Select(pair =>
        {
            var (index, answer) = pair;
            var row = file.Rows[index];
            var (status, error, best, emails, phones, requestId) = answer is { } a
                ? (a.Result.Status, a.Result.Error, a.Result.MostProbableEmail, a.Evidence.Emails, a.Evidence.Phones, a.RequestId)
                : (RowAnswer.Skipped, skipped.GetValueOrDefault(index), null, [], [], null);
            return new CsvUploadRow(row.Number, Leads.Value(row, columns, LeadField.FirstName), Leads.Value(row, columns, LeadField.LastName),
                Leads.Value(row, columns, LeadField.Domain), Leads.Value(row, columns, LeadField.Company), status, error, best, emails, phones, requestId);
        }).ToList();
        return TypedResults.Ok(new CsvUploadRowsOutputBody(upload.Id, offset, upload.RowCount, rows));
    }

    private static async Task<Results<FileContentHttpResult, ApiProblem>> EnrichedAsync(
        string UploadID, HttpContext http, UploadStore uploads, BatchStore batches, CancellationToken cancellationToken)
    {
        if (await FindAsync(UploadID, http, uploads, cancellationToken) is not { } upload)
        {
            return NoSuchUpload(UploadID);
        }

        var (file, _) = Reread(upload);
        var answers = await AnswersAsync(upload, batches, Enumerable.Range(0, file.Rows.Count), cancellationToken);
        var skipped = upload.Skipped.ToDictionary(s => s.Row, s => s.Reason);
        var rows = answers.Select(pair => pair.Answer is { } a ? WireAnswers.Row(a.Result) : RowAnswer.NotSent(skipped.GetValueOrDefault(pair.Row) ?? "")).ToList();
        using var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, EnrichedCsv.EncodingOf(file), leaveOpen: true))
        {
            await EnrichedCsv.WriteAsync(writer, file, rows, cancellationToken);
        }

        return ResultsCsv.Attachment(buffer.ToArray(), UploadedCsv.EnrichedName(upload.FileName));
    }

    private sealed record RowResult(string RequestId, EnrichPeopleResult Result, ItemEvidence Evidence);

    /// <summary>The answer of each of <paramref name="rows"/> (null for a skipped row), reading each batch they need once.</summary>
    private static async Task<List<(int Row, RowResult? Answer)>> AnswersAsync(StoredUpload upload, BatchStore batches, IEnumerable<int> rows, CancellationToken cancellationToken)
    {
        var read = new Dictionary<string, (GetEnrichPeopleStatusOutputBody Status, GetEnrichPeopleEvidenceOutputBody Evidence)?>(StringComparer.Ordinal);
        var answers = new List<(int, RowResult?)>();
        foreach (var row in rows)
        {
            if (upload.ItemOf(row) is not var (batchId, index))
            {
                answers.Add((row, null));
                continue;
            }

            if (!read.TryGetValue(batchId, out var batch))
            {
                var stored = await batches.FindAsync(upload.AccountId, batchId, cancellationToken);
                batch = stored is null ? null : (WireAnswers.Status(stored), WireAnswers.Evidence(stored));
                read[batchId] = batch;
            }

            answers.Add((row, batch is { } b ? new RowResult(batchId, b.Status.Results[index], b.Evidence.Results[index]) : null));
        }

        return answers;
    }

    private static async Task<CsvUploadOutputBody> StatusOfAsync(StoredUpload upload, UploadStore uploads, CancellationToken cancellationToken)
    {
        var done = await uploads.DoneCountAsync(upload, cancellationToken);
        return new CsvUploadOutputBody(
            upload.Id, upload.FileName, done < upload.ItemCount ? ItemStatus.Processing : ItemStatus.Completed,
            upload.RowCount, upload.ItemCount, upload.Skipped.Count, done, UploadedCsv.FieldNames(upload.Fields), upload.BatchIds, upload.CreatedAt);
    }

    private static (LeadFile File, LeadColumns Columns) Reread(StoredUpload upload)
    {
        var file = LeadFile.Read(upload.Content, upload.FileName);
        var wire = JsonSerializer.Deserialize(upload.ColumnsJson, ApiJsonContext.Default.CsvColumns)!;
        return (file, LeadColumns.Chosen(file.Headers, new Dictionary<LeadField, IReadOnlyList<int>>
        {
            [LeadField.FirstName] = wire.FirstName,
            [LeadField.LastName] = wire.LastName,
            [LeadField.Domain] = wire.Domain,
            [LeadField.Company] = wire.Company,
            [LeadField.LinkedIn] = wire.Linkedin,
        }));
    }

    private static CsvColumns Wire(LeadColumns columns) => new(
        columns.Of(LeadField.FirstName), columns.Of(LeadField.LastName), columns.Of(LeadField.Domain), columns.Of(LeadField.Company), columns.Of(LeadField.LinkedIn));

    private static List<string> MissingColumns(LeadColumns columns) =>
        UploadedCsv.ColumnParameters.Where(p => LeadColumns.Required.Contains(p.Field) && columns.Of(p.Field).Count == 0).Select(p => p.Name).ToList();

    private static CsvSkippedRow Skipped(SkippedUploadRow row) => new(row.Row + 2, row.Reason);

    private static async Task<StoredUpload?> FindAsync(string uploadId, HttpContext http, UploadStore uploads, CancellationToken cancellationToken) =>
        Guid.TryParse(uploadId, out _) ? await uploads.FindAsync(http.User.AccountId(), uploadId, cancellationToken) : null;

    private static ApiProblem NoSuchUpload(string uploadId) =>
        ApiProblem.NotFound("No CSV upload with this ID exists for this account.", "path.UploadID", uploadId);

    private static int ReadNumber(IQueryCollection query, string name, int fallback, int min, int max, List<ErrorDetail> errors)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return fallback;
        }

        if (values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors.Add(ErrorDetail.WithText($"query.{name}", $"must be a whole number from {min} to {max}", values.ToString()));
        return fallback;
    }
}
