using Dapper;
using PeopleEnrich.Answers;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Cache;

/// <summary>The results cache, as personal data: answers for the person (by name at their domain, or profile) or holding their address.</summary>
public sealed class CachedAnswersPersonalData(Database database) : IPersonalData
{
    public string What => "cached answers";

    public async Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var (where, parameters) = Match(subject);
        await using var connection = await database.OpenAsync(cancellationToken);
        var answers = await connection.QueryAsync<string>(new CommandDefinition($"SELECT result FROM results_cache WHERE {where}", parameters, cancellationToken: cancellationToken));
        return ErasureSubject.None with
        {
            Emails = answers.Select(json => StoredAnswer.TryRead(json)?.MostProbableEmail?.ToLowerInvariant()).OfType<string>().ToHashSet(StringComparer.Ordinal),
        };
    }

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var (where, parameters) = Match(subject);
        return database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM results_cache WHERE {where}", parameters, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>By profile or name keys; and an answer holding one of the addresses (written quoted in its JSON).</summary>
    private (string, DynamicParameters) Match(ErasureSubject subject)
    {
        var (where, parameters) = SubjectMatch.Where(database, subject, email: null, "linkedin_key", ("domain", "first_key", "last_key"));
        var (holding, _) = ResultsCache.Holding(subject.Emails, parameters);
        return ($"{where} OR {holding}", parameters);
    }
}
