using Dapper;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>
/// Past requests, as personal data: an item asked about the person (their name at their domain, their profile) or
/// answered with their address. Erasing keeps the item and its status (the caller's request stays whole, its credits
/// explained) but blanks who it was about and answers "erased at the person's request".
/// </summary>
public sealed class StoredAnswersPersonalData(Database database) : IPersonalData
{
    public const string Erased = "erased at the person's request";

    /// <summary>What an erased item answers: nothing, and why.</summary>
    public static string ErasedAnswer { get; } = StoredAnswer.Write(new EnrichmentOutcome([], null, []) { Error = Erased });

    public string What => "stored answers of past requests";

    public async Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var items = await FindAsync(subject, cancellationToken);
        return new ErasureSubject(
            items.Select(i => i.ResultJson is null ? null : StoredAnswer.TryRead(i.ResultJson)?.MostProbableEmail?.ToLowerInvariant())
                .OfType<string>().ToHashSet(StringComparer.Ordinal),
            items.Select(i => MatchKeys.LinkedIn(i.LinkedInUrl)).OfType<string>().Where(IsProfile).ToHashSet(StringComparer.Ordinal),
            items.Select(i => NamedPerson.PersonKey(i.FirstName, i.LastName, i.Domain)).ToHashSet(StringComparer.Ordinal));
    }

    public async Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var items = await FindAsync(subject, cancellationToken);
        return await database.InTransactionAsync(async (connection, transaction) =>
        {
            var erased = 0;
            foreach (var item in items)
            {
                erased += await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE items SET firstname = '', lastname = '', company_name = NULL, linkedin_url = NULL,
                                     result_json = CASE WHEN result_json IS NULL THEN NULL ELSE @erasedAnswer END,
                                     last_error = CASE WHEN last_error IS NULL THEN NULL ELSE @erased END
                    WHERE batch_id = @BatchId AND idx = @Idx
                    """, new { item.BatchId, item.Idx, erasedAnswer = ErasedAnswer, erased = Erased }, transaction, cancellationToken: cancellationToken));
            }

            return erased;
        }, cancellationToken);
    }

    /// <summary>The items that asked about the person or answered with their address (found by what erasing them blanks).</summary>
    public async Task<IReadOnlyList<(string BatchId, long Idx)>> ItemsAboutAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        (await FindAsync(subject, cancellationToken)).Select(item => (item.BatchId, item.Idx)).ToList();

    /// <summary>
    /// Items stored with raw names (as submitted): narrowed in SQL by domain, profile slug or address, then matched by
    /// their keys here, so "GRÂCE hopper" is Grace Hopper.
    /// </summary>
    private async Task<IReadOnlyList<StoredItem>> FindAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var domains = subject.Domains.ToArray();
        var slugs = subject.LinkedInKeys.Select(k => "%" + k[(k.LastIndexOf('/') + 1)..] + "%").ToArray();
        var quotedEmails = subject.Emails.Select(e => $"%\"{e}\"%").ToArray();
        var terms = new List<string>();
        if (domains.Length > 0)
        {
            terms.Add($"domain {database.InAny("domains")}");
        }

        terms.AddRange(slugs.Select((_, i) => $"LOWER(linkedin_url) LIKE @slug{i}"));
        terms.AddRange(quotedEmails.Select((_, i) => $"LOWER(result_json) LIKE @email{i}"));
        if (terms.Count == 0)
        {
            return [];
        }

        var parameters = new DynamicParameters();
        parameters.Add("domains", domains);
        for (var i = 0; i < slugs.Length; i++)
        {
            parameters.Add($"slug{i}", slugs[i]);
        }

        for (var i = 0; i < quotedEmails.Length; i++)
        {
            parameters.Add($"email{i}", quotedEmails[i]);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<StoredItem>(new CommandDefinition(
            $"SELECT batch_id AS BatchId, idx AS Idx, firstname AS FirstName, lastname AS LastName, domain AS Domain, linkedin_url AS LinkedInUrl, result_json AS ResultJson FROM items WHERE {string.Join(" OR ", terms)}",
            parameters, cancellationToken: cancellationToken));
        return rows.Where(item => item.FirstName.Length > 0 && Concerns(item, subject)).ToList();
    }

    private static bool Concerns(StoredItem item, ErasureSubject subject) =>
        subject.PersonKeys.Contains(NamedPerson.PersonKey(item.FirstName, item.LastName, item.Domain))
        || (MatchKeys.LinkedIn(item.LinkedInUrl) is { } profile && subject.LinkedInKeys.Contains(profile))
        || (item.ResultJson is not null && StoredAnswer.TryRead(item.ResultJson) is { } answer
            && answer.Emails.Any(e => subject.Emails.Contains(e.Email.ToLowerInvariant())));

    private static bool IsProfile(string key) => key.StartsWith("linkedin.com/in/", StringComparison.Ordinal);

    /// <summary>Settable, so that Dapper converts idx whatever integer type the database gives it.</summary>
    private sealed class StoredItem
    {
        public string BatchId { get; init; } = "";

        public long Idx { get; init; }

        public string FirstName { get; init; } = "";

        public string LastName { get; init; } = "";

        public string Domain { get; init; } = "";

        public string? LinkedInUrl { get; init; }

        public string? ResultJson { get; init; }
    }
}
