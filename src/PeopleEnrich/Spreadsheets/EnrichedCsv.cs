using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace PeopleEnrich.Spreadsheets;

/// <summary>
/// The enriched file: every input row in order with every input column unchanged, then <see cref="EnrichedColumns"/>.
/// Same delimiter as the input, and a byte order mark when the input had one (Excel needs it to read UTF-8).
/// </summary>
public static class EnrichedCsv
{
    public static Encoding EncodingOf(LeadFile file) => new UTF8Encoding(file.HasByteOrderMark);

    /// <summary>Writes the file to <paramref name="writer"/> (whose encoding writes the byte order mark, if any).</summary>
    public static async Task WriteAsync(TextWriter writer, LeadFile file, IReadOnlyList<RowAnswer> answers, CancellationToken cancellationToken)
    {
        var width = file.Width;
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = file.Delimiter.ToString(),
            NewLine = "\r\n",
        };
        await using var csv = new CsvWriter(writer, configuration, leaveOpen: true);
        foreach (var header in Padded(file.Headers, width).Concat(EnrichedColumns.Names))
        {
            csv.WriteField(header);
        }

        await csv.NextRecordAsync();
        for (var i = 0; i < file.Rows.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var field in Padded(file.Rows[i].Fields, width).Concat(EnrichedColumns.Of(answers[i])))
            {
                csv.WriteField(field);
            }

            await csv.NextRecordAsync();
        }

        await csv.FlushAsync();
    }

    private static IEnumerable<string> Padded(IReadOnlyList<string> fields, int width) => fields.Concat(Enumerable.Repeat("", width - fields.Count));
}
