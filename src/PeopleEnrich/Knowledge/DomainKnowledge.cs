using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Knowledge;

public sealed class KnowledgeOptions
{
    /// <summary>How long a fact about a domain (catch-all, pattern) is trusted before it is verified again.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>What is known of a domain: catch-all or not (and the probe's answer that said so), and its address pattern with how much backs it.</summary>
public sealed record DomainFacts(bool? CatchAll, LearnedPattern? Pattern)
{
    public ProbeAnswer? CatchAllSeen { get; init; }

    /// <summary>
    /// Every shape the domain's addresses were seen in, the best supported first (<see cref="Pattern"/> is the first):
    /// the others are its exceptions, the shapes a person may have when the pattern's address is not theirs.
    /// </summary>
    public IReadOnlyList<LearnedPattern> Shapes { get; init; } = [];

    /// <summary>The domain's addresses reported to bounce: never asked, never an answer, no support of a shape.</summary>
    public IReadOnlyList<ReportedBounce> Bounced { get; init; } = [];
}

/// <summary>The catch-all probe's answer: which mail host said what, and when.</summary>
public sealed record ProbeAnswer(string MxHost, string Reply, DateTimeOffset At);

/// <param name="Supporting">The newest local parts seen at the domain in this pattern (at most <see cref="DomainKnowledge.MaxSupporting"/>).</param>
/// <param name="LastSeen">When the newest of them was seen.</param>
public sealed record LearnedPattern(AddressPattern Pattern, int Observations, bool FromDirectory, IReadOnlyList<string> Supporting, DateTimeOffset LastSeen)
{
    /// <summary>The bar for HIGH_PROBABILITY: two independent addresses, or the operator's directory.</summary>
    public bool IsBackedByEvidence => Observations >= 2 || FromDirectory;
}

/// <summary>The persisted store of domain facts, shared by all workers; facts older than the TTL are forgotten.</summary>
public sealed class DomainKnowledge(Database database, TimeProvider time, IOptions<KnowledgeOptions> options)
{
    /// <summary>Evidence names a few supporting addresses, not the whole staff: enough to explain, little to expose.</summary>
    public const int MaxSupporting = 5;

    private readonly DomainFactColumn _catchAll = new("catch_all", database, time, evidenceColumn: "catch_all_evidence");

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long FreshSince => Now - (long)options.Value.Ttl.TotalMilliseconds;

    /// <summary>Only whether the domain is catch-all, and the probe's answer that said so: what a lane reads when it starts.</summary>
    public async Task<DomainFacts> GetCatchAllAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return WithCatchAll(new DomainFacts(null, null), await ReadCatchAllAsync(connection, domain, cancellationToken));
    }

    public async Task<DomainFacts> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var catchAll = await ReadCatchAllAsync(connection, domain, cancellationToken);
        var addresses = await connection.QueryAsync<(string LocalPart, string Patterns, long FromDirectory, long SeenAt)>(new CommandDefinition(
            """
            SELECT local_part, patterns, from_directory, seen_at FROM domain_addresses a
            WHERE domain = @domain AND seen_at >= @fresh
              AND NOT EXISTS (SELECT 1 FROM bounced_addresses b WHERE b.domain = a.domain AND b.local_part = a.local_part)
            ORDER BY seen_at DESC, local_part
            """,
            new { domain, fresh = FreshSince }, cancellationToken: cancellationToken));
        var shapes = addresses
            .SelectMany(a => a.Patterns.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => (Pattern: p, Address: a)))
            .Where(p => Enum.IsDefined(typeof(AddressPattern), p.Pattern))
            .GroupBy(p => Enum.Parse<AddressPattern>(p.Pattern))
            .Select(g => new LearnedPattern(g.Key, g.Count(), g.Any(p => p.Address.FromDirectory == 1), g.Select(p => p.Address.LocalPart).Take(MaxSupporting).ToList(),
                DateTimeOffset.FromUnixTimeMilliseconds(g.Max(p => p.Address.SeenAt))))
            .OrderByDescending(p => p.Observations).ThenByDescending(p => p.FromDirectory).ThenByDescending(p => AddressPatterns.Of(p.Pattern).Prior)
            .ToList();
        var bounced = await BouncedAddresses.AtAsync(connection, domain, cancellationToken);
        return WithCatchAll(new DomainFacts(null, shapes.FirstOrDefault()) { Shapes = shapes, Bounced = bounced }, catchAll);
    }

    private Task<(long? CatchAll, long? At, string? Evidence)> ReadCatchAllAsync(System.Data.Common.DbConnection connection, string domain, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<(long? CatchAll, long? At, string? Evidence)>(new CommandDefinition(
            "SELECT catch_all, catch_all_at, catch_all_evidence FROM domain_knowledge WHERE domain = @domain AND catch_all_at >= @fresh",
            new { domain, fresh = FreshSince }, cancellationToken: cancellationToken));

    private static DomainFacts WithCatchAll(DomainFacts facts, (long? CatchAll, long? At, string? Evidence) catchAll) => facts with
    {
        CatchAll = catchAll.CatchAll is null ? null : catchAll.CatchAll == 1,
        CatchAllSeen = catchAll.Evidence is { } seen && ProbeAnswerRecord.FromJson(seen) is { } record
            ? new ProbeAnswer(record.MxHost, record.Reply, DateTimeOffset.FromUnixTimeMilliseconds(catchAll.At ?? 0))
            : null,
    };

    /// <summary>
    /// Every person of a cold domain sees the same answer to the probe: it is written once, not once each,
    /// with the host and reply it was seen on (the evidence for the domain's catch-all addresses).
    /// </summary>
    public Task RecordCatchAllAsync(string domain, bool catchAll, string? mxHost, string? reply, CancellationToken cancellationToken) =>
        _catchAll.WriteAsync(domain, catchAll ? 1 : 0, mxHost is null || reply is null ? null : new ProbeAnswerRecord(mxHost, reply).ToJson(), cancellationToken);

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
