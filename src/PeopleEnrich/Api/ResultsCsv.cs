using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.Net.Http.Headers;
using PeopleEnrich.Pipeline.Batches;

namespace PeopleEnrich.Api;

/// <summary>
/// A request's results as CSV (GET with Accept: text/csv, an extension): the person as submitted, each custom
/// key, then the same added columns as the <c>enrich</c> command writes. The Client room may use no server room
/// (the architecture test), so the column rules are kept equal by a test rather than shared code.
/// </summary>
public static class ResultsCsv
{
    public const string MediaType = "text/csv";

    public static readonly IReadOnlyList<string> PersonColumns = ["firstname", "lastname", "domain", "company_name", "linkedin_url"];

    public static readonly IReadOnlyList<string> AddedColumns =
        ["email", "email_status", "emails", "phone", "phone_region", "phones", "enrich_status", "enrich_error"];

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

    public static string Write(StoredBatch batch)
    {
        var results = WireAnswers.Status(batch).Results;
        var customKeys = batch.Items.SelectMany(i => i.Custom?.Keys ?? []).Distinct(StringComparer.Ordinal).ToList();
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\r\n" }))
        {
            foreach (var header in PersonColumns.Concat(customKeys).Concat(AddedColumns))
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
                    .Concat(Added(results[i])))
                {
                    csv.WriteField(field);
                }

                csv.NextRecord();
            }
        }

        return text.ToString();
    }

    private static string[] Added(EnrichPeopleResult result)
    {
        var emails = result.Emails ?? [];
        var phones = result.Phones ?? [];
        var emailStatus = result.MostProbableEmail is { } email
            ? emails.FirstOrDefault(e => string.Equals(e.Email, email, StringComparison.OrdinalIgnoreCase))?.Status ?? "UNKNOWN"
            : "";
        return
        [
            result.MostProbableEmail ?? "",
            emailStatus,
            string.Join(';', emails.Select(e => $"{e.Email}:{e.Status}")),
            phones.Count > 0 ? phones[0].Number : "",
            phones.Count > 0 ? phones[0].Region : "",
            string.Join(';', phones.Select(p => p.Number)),
            result.Status,
            result.Error ?? "",
        ];
    }
}
