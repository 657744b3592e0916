using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Api;

/// <summary>
/// A request's results as CSV (GET with Accept: text/csv, an extension): the person as submitted, each custom
/// key as <c>custom.KEY</c> (so that no key can take the name of another column), then the columns the
/// <c>enrich</c> command adds, written by the same code (<see cref="EnrichedColumns"/>).
/// </summary>
public static class ResultsCsv
{
    public const string MediaType = "text/csv";

    public const string CustomPrefix = "custom.";

    public static readonly IReadOnlyList<string> PersonColumns = ["firstname", "lastname", "domain", "company_name", "linkedin_url"];

    /// <summary>Whether the caller asked for CSV rather than JSON (text/csv ranked at least as high as any JSON).</summary>
    public static bool IsWanted(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        double Quality(Func<string, bool> matches) =>
            accepted.Where(a => matches(a.MediaType.Value ?? "")).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();

        var csv = Quality(m => m.Equals(MediaType, StringComparison.OrdinalIgnoreCase));
        var json = Quality(m => m.Equals("application/json", StringComparison.OrdinalIgnoreCase));
        return csv > 0 && csv >= json;
    }

    /// <summary>The CSV answer, saved by a browser as <c>peopleenrich-REQUESTID.csv</c>.</summary>
    public static FileContentHttpResult Answer(StoredBatch batch) =>
        Attachment(Encoding.UTF8.GetBytes(Write(batch)), $"peopleenrich-{batch.Id}.csv");

    /// <summary>CSV as a download (Content-Disposition: attachment) named <paramref name="fileName"/>.</summary>
    public static FileContentHttpResult Attachment(byte[] content, string fileName) =>
        TypedResults.File(content, $"{MediaType}; charset=utf-8", fileName);

    public static string Write(StoredBatch batch)
    {
        var results = WireAnswers.Status(batch).Results;
        var customKeys = batch.Items.SelectMany(i => i.Custom?.Keys ?? []).Distinct(StringComparer.Ordinal).ToList();
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\r\n" }))
        {
            foreach (var header in PersonColumns.Concat(customKeys.Select(k => CustomPrefix + k)).Concat(EnrichedColumns.Names))
            {
                csv.WriteField(header);
            }

            csv.NextRecord();
            for (var i = 0; i < batch.Items.Count; i++)
            {
                var person = batch.Items[i].Person;
                string[] submitted = [person.FirstName, person.LastName, person.Domain, person.CompanyName ?? "", person.LinkedInUrl ?? ""];
                var custom = batch.Items[i].Custom;
                foreach (var field in submitted
                    .Concat(customKeys.Select(k => custom is not null && custom.TryGetValue(k, out var v) ? v : ""))
                    .Concat(EnrichedColumns.Of(WireAnswers.Row(results[i]))))
                {
                    csv.WriteField(field);
                }

                csv.NextRecord();
            }
        }

        return text.ToString();
    }
}
