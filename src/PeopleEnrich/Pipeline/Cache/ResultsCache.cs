using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Storage;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Cache;

public sealed class CacheOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How long a completed answer is reused for the same person and fields.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// The first stop of every item: a completed answer for the same person (same name, or same LinkedIn
/// profile, at the same domain) covering the asked fields is reused, with no DNS, SMTP or HTTP.
/// </summary>
/// <remarks>
/// The domain is part of every key, LinkedIn included: a person who moved company keeps the profile
/// but not the address. Two people of one name at one domain are told apart by LinkedIn when both have it.
/// Only a personal profile URL (linkedin.com/in/…) identifies someone on its own.
/// </remarks>
public sealed class ResultsCache(Database database, TimeProvider time, IOptions<CacheOptions> options)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<EnrichmentOutcome?> FindAsync(Person person, EnrichFields asked, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return null;
        }

        var key = CachedPerson.Of(person);
        // A profile (linkedin.com/in/…) names one person whatever the spelling of their name; anything else
        // in that field (a company page, "n/a") would make everyone of a list one person.
        var byLinkedIn = key.LinkedInKey is null || !key.LinkedInKey.StartsWith("linkedin.com/in/", StringComparison.Ordinal) ? "" : "OR linkedin_key = @LinkedInKey";
        var sameProfile = key.LinkedInKey is null ? "" : "AND (linkedin_key IS NULL OR linkedin_key = @LinkedInKey)";
        await using var connection = await database.OpenAsync(cancellationToken);
        var hit = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition($"""
            SELECT result FROM results_cache
            WHERE domain = @Domain AND stored_at >= @fresh AND (fields & @asked) = @asked
              AND ((first_key = @FirstKey AND last_key = @LastKey {sameProfile}) {byLinkedIn})
            ORDER BY stored_at DESC
            LIMIT 1
            """, new { key.Domain, key.FirstKey, key.LastKey, key.LinkedInKey, asked = (int)asked, fresh = Now - (long)options.Value.Ttl.TotalMilliseconds },
            cancellationToken: cancellationToken));
        if (hit is null)
        {
            return null;
        }

        // An answer written by a newer version of the program (a mixed or rolled-back deployment) is a miss, not a failure.
        return StoredAnswer.TryRead(hit) is { } answer ? answer.Only(asked) : null;
    }

    public Task StoreAsync(Person person, EnrichFields asked, EnrichmentOutcome outcome, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        var key = CachedPerson.Of(person);
        return database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO results_cache (cache_key, fields, domain, first_key, last_key, linkedin_key, result, stored_at)
            VALUES (@CacheKey, @fields, @Domain, @FirstKey, @LastKey, @LinkedInKey, @result, @now)
            ON CONFLICT (cache_key, fields) DO UPDATE SET result = excluded.result, stored_at = excluded.stored_at
            """, new { key.CacheKey, key.Domain, key.FirstKey, key.LastKey, key.LinkedInKey, fields = (int)asked, result = StoredAnswer.Write(outcome), now = Now },
            transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
    }

    /// <summary>
    /// Forgets the answers a directory import may have changed: every person at those domains, and
    /// those LinkedIn profiles anywhere. The operator's own data must show at once, not in 30 days.
    /// </summary>
    public async Task<int> ForgetAsync(IReadOnlyCollection<string> domains, IReadOnlyCollection<string> linkedInKeys, CancellationToken cancellationToken)
    {
        // In chunks: SQLite takes at most 32,766 parameters in one statement, and an import may change more.
        const int Chunk = 500;
        var forgotten = 0;
        foreach (var (column, values) in new[] { ("domain", domains), ("linkedin_key", linkedInKeys) })
        {
            foreach (var chunk in values.Chunk(Chunk))
            {
                forgotten += await database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM results_cache WHERE {column} {database.InAny("values")}",
                    new { values = chunk }, transaction, cancellationToken: cancellationToken)), cancellationToken);
            }
        }

        return forgotten;
    }

    /// <summary>Forgets every answer holding <paramref name="address"/> (a reported bounce): the next lookup of those people asks again.</summary>
    public Task<int> ForgetHoldingAsync(string address, CancellationToken cancellationToken)
    {
        var (where, parameters) = Holding([address.ToLowerInvariant()]);
        return database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM results_cache WHERE {where}", parameters, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>Answers holding one of these (lower-case) addresses: at its domain, and written quoted in the answer's JSON.</summary>
    internal static (string Where, DynamicParameters Parameters) Holding(IEnumerable<string> addresses, DynamicParameters? parameters = null)
    {
        parameters ??= new DynamicParameters();
        var conditions = new List<string>();
        foreach (var (email, i) in addresses.Select((email, i) => (email, i)))
        {
            parameters.Add($"holds{i}", $"%\"{email}\"%");
            parameters.Add($"at{i}", email[(email.LastIndexOf('@') + 1)..]);
            conditions.Add($"(domain = @at{i} AND LOWER(result) LIKE @holds{i})");
        }

        return (conditions.Count == 0 ? "1 = 0" : string.Join(" OR ", conditions), parameters);
    }

    private sealed record CachedPerson(string CacheKey, string Domain, string FirstKey, string LastKey, string? LinkedInKey)
    {
        public static CachedPerson Of(Person person)
        {
            var first = MatchKeys.Name(person.FirstName);
            var last = MatchKeys.Name(person.LastName);
            var linkedIn = MatchKeys.LinkedIn(person.LinkedInUrl);
            return new CachedPerson($"{first}|{last}|{person.Domain}|{linkedIn}", person.Domain, first, last, linkedIn);
        }
    }
}
