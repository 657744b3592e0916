using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Client;

/// <summary>
/// The enriched file on disk, written beside the target and moved over it, so an interrupted write never leaves half a file.
/// </summary>
internal static class EnrichedFile
{
    public static async Task WriteAsync(string path, LeadFile file, IReadOnlyList<RowAnswer> answers, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        await using (var stream = new StreamWriter(partial, append: false, EnrichedCsv.EncodingOf(file)))
        {
            await EnrichedCsv.WriteAsync(stream, file, answers, cancellationToken);
        }

        File.Move(partial, path, overwrite: true);
    }

    /// <summary>An item's answer as the output's columns read it.</summary>
    public static RowAnswer Answered(ItemAnswer item) => new(
        item.Status,
        item.Error,
        item.MostProbableEmail,
        (item.Emails ?? []).Select(e => new AnsweredEmail(e.Email, e.Status)).ToList(),
        (item.Phones ?? []).Select(p => new AnsweredPhone(p.Number, p.Region)).ToList());
}
