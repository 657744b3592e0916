using Dapper;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Sources.Directory;

/// <summary>The operator's imported contacts, as personal data: a person's rows by address, profile or name at their domain.</summary>
public sealed class DirectoryPersonalData(Database database) : IPersonalData
{
    public string What => "directory contacts";

    public async Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var (where, parameters) = Match(subject);
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string? Email, string? LinkedInKey, string? FirstKey, string? LastKey, string? Domain)>(new CommandDefinition(
            $"SELECT email, linkedin_key, first_key, last_key, domain FROM directory_contacts WHERE {where}", parameters, cancellationToken: cancellationToken))).ToList();
        return new ErasureSubject(
            rows.Where(r => r.Email is not null).Select(r => r.Email!.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
            rows.Where(r => r.LinkedInKey is not null).Select(r => r.LinkedInKey!).ToHashSet(StringComparer.Ordinal),
            rows.Where(r => r is { FirstKey: not null, LastKey: not null, Domain: not null }).Select(r => $"{r.FirstKey}|{r.LastKey}|{r.Domain}").ToHashSet(StringComparer.Ordinal));
    }

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken)
    {
        var (where, parameters) = Match(subject);
        return database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM directory_contacts WHERE {where}", parameters, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    private (string, DynamicParameters) Match(ErasureSubject subject) =>
        SubjectMatch.Where(database, subject, "email", "linkedin_key", ("domain", "first_key", "last_key"));
}
