using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace PeopleEnrich.Client;

/// <summary>What became of one row: the item's answer, or why it was not sent.</summary>
internal sealed record RowOutcome(string Status, string? Error, ItemAnswer? Item)
{
    public const string Skipped = "SKIPPED";

    public static RowOutcome NotSent(string reason) => new(Skipped, reason, null);

    public static RowOutcome Answered(ItemAnswer item) => new(item.Status, item.Error, item);

    /// <summary>The status of the most probable email, or null when there is none.</summary>
    public string? EmailStatus => Item?.MostProbableEmail is { } email
        ? Item.Emails?.FirstOrDefault(e => string.Equals(e.Email, email, StringComparison.OrdinalIgnoreCase))?.Status ?? "UNKNOWN"
        : null;
}

/// <summary>
/// The enriched file: every input row in order with every input column unchanged, then the answer's
/// columns. Same delimiter as the input, and a byte order mark when the input had one (Excel needs it
/// to read UTF-8). Written beside the target and moved over it, so an interrupted write never leaves
/// half a file.
/// </summary>
internal static class EnrichedCsv
{
    public static readonly IReadOnlyList<string> AddedColumns =
        ["email", "email_status", "emails", "phone", "phone_region", "phones", "enrich_status", "enrich_error"];

    public static async Task WriteAsync(string path, LeadFile file, IReadOnlyList<RowOutcome> outcomes, CancellationToken cancellationToken)
    {
        var width = file.Width;
        var partial = path + ".partial";
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = file.Delimiter.ToString(),
            NewLine = "\r\n",
        };
        await using (var stream = new StreamWriter(partial, append: false, new UTF8Encoding(file.HasByteOrderMark)))
        await using (var csv = new CsvWriter(stream, configuration))
        {
            foreach (var header in Padded(file.Headers, width).Concat(AddedColumns))
            {
                csv.WriteField(header);
            }

            await csv.NextRecordAsync();
            for (var i = 0; i < file.Rows.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var field in Padded(file.Rows[i].Fields, width).Concat(Columns(outcomes[i])))
                {
                    csv.WriteField(field);
                }

                await csv.NextRecordAsync();
            }
        }

        File.Move(partial, path, overwrite: true);
    }

    private static IEnumerable<string> Padded(IReadOnlyList<string> fields, int width) => fields.Concat(Enumerable.Repeat("", width - fields.Count));

    private static string[] Columns(RowOutcome outcome)
    {
        var item = outcome.Item;
        var phones = item?.Phones ?? [];
        return
        [
            item?.MostProbableEmail ?? "",
            outcome.EmailStatus ?? "",
            string.Join(';', (item?.Emails ?? []).Select(e => $"{e.Email}:{e.Status}")),
            phones.Count > 0 ? phones[0].Number : "",
            phones.Count > 0 ? phones[0].Region ?? "" : "",
            string.Join(';', phones.Select(p => p.Number)),
            outcome.Status,
            outcome.Error ?? "",
        ];
    }
}
