using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Knowledge;

public sealed class KnowledgeOptions
{
    /// <summary>How long a fact about a domain (catch-all, pattern) is trusted before it is verified again.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>What is known of a domain: catch-all or not, and its address pattern with how much backs it.</summary>
public sealed record DomainFacts(bool? CatchAll, LearnedPattern? Pattern);

public sealed record LearnedPattern(AddressPattern Pattern, int Observations, bool FromDirectory)
{
    /// <summary>The bar for HIGH_PROBABILITY: two independent addresses, or the operator's directory.</summary>
    public bool IsBackedByEvidence => Observations >= 2 || FromDirectory;
}

/// <summary>The persisted store of domain facts, shared by all workers; facts older than the TTL are forgotten.</summary>
public sealed class DomainKnowledge(Database database, TimeProvider time, IOptions<KnowledgeOptions> options)
{
    private readonly DomainFactColumn _catchAll = new("catch_all", database, time);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long FreshSince => Now - (long)options.Value.Ttl.TotalMilliseconds;

    public async Task<DomainFacts> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var catchAll = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "SELECT catch_all FROM domain_knowledge WHERE domain = @domain AND catch_all_at >= @fresh",
            new { domain, fresh = FreshSince }, cancellationToken: cancellationToken));
        var addresses = await connection.QueryAsync<(string Patterns, long FromDirectory)>(new CommandDefinition(
            "SELECT patterns, from_directory FROM domain_addresses WHERE domain = @domain AND seen_at >= @fresh",
            new { domain, fresh = FreshSince }, cancellationToken: cancellationToken));
        var pattern = addresses
            .SelectMany(a => a.Patterns.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => (Pattern: p, Directory: a.FromDirectory == 1)))
            .Where(p => Enum.IsDefined(typeof(AddressPattern), p.Pattern))
            .GroupBy(p => Enum.Parse<AddressPattern>(p.Pattern))
            .Select(g => new LearnedPattern(g.Key, g.Count(), g.Any(p => p.Directory)))
            .OrderByDescending(p => p.Observations).ThenByDescending(p => p.FromDirectory).ThenByDescending(p => AddressPatterns.Of(p.Pattern).Prior)
            .FirstOrDefault();
        return new DomainFacts(catchAll is null ? null : catchAll == 1, pattern);
    }

    /// <summary>Every person of a cold domain sees the same answer to the probe: it is written once, not once each.</summary>
    public Task RecordCatchAllAsync(string domain, bool catchAll, CancellationToken cancellationToken) =>
        _catchAll.WriteAsync(domain, catchAll ? 1 : 0, cancellationToken);

    /// <summary>An address seen at the domain (verified by its server, or listed by the directory), with the patterns it follows.</summary>
    public Task RecordAddressAsync(string domain, string localPart, IReadOnlyList<AddressPattern> patterns, bool fromDirectory, CancellationToken cancellationToken) =>
        patterns.Count == 0
            ? Task.CompletedTask
            : database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO domain_addresses (domain, local_part, patterns, from_directory, seen_at) VALUES (@domain, @localPart, @patterns, @directory, @now)
                ON CONFLICT (domain, local_part) DO UPDATE SET patterns = excluded.patterns, seen_at = excluded.seen_at,
                    from_directory = CASE WHEN excluded.from_directory = 1 THEN 1 ELSE domain_addresses.from_directory END
                """, new { domain, localPart, patterns = string.Join(',', patterns), directory = fromDirectory ? 1 : 0, now = Now },
                transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
}
