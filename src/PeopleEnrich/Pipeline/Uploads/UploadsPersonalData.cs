using Dapper;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Uploads;

/// <summary>
/// Uploaded CSV files, as personal data: a file that sent the person (or got their address back) is deleted whole,
/// since its rows are the owner's free text, which nothing can blank reliably. Its requests stay, blanked by
/// <see cref="StoredAnswersPersonalData"/>, which must erase after this store: it finds the requests by the names
/// that one blanks.
/// </summary>
public sealed class UploadsPersonalData(Database database, StoredAnswersPersonalData storedAnswers) : IPersonalData
{
    public string What => "uploaded CSV files";

    public async Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var batches = (await storedAnswers.ItemsAboutAsync(subject, cancellationToken)).Select(item => item.BatchId).Distinct(StringComparer.Ordinal).ToList();
        if (batches.Count == 0)
        {
            return 0;
        }

        // An upload lists its request ids as a JSON array of strings: a quoted id is one of them.
        return await database.InTransactionAsync(async (connection, transaction) =>
        {
            var erased = 0;
            foreach (var batchId in batches)
            {
                erased += await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM csv_uploads WHERE batch_ids_json LIKE @quoted", new { quoted = $"%\"{batchId}\"%" }, transaction, cancellationToken: cancellationToken));
            }

            return erased;
        }, cancellationToken);
    }
}
