using Dapper;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Knowledge;

/// <summary>An address reported to bounce: when it bounced, and the reply's codes when given.</summary>
public sealed record ReportedBounce(string Address, DateTimeOffset BouncedAt, string? Reply)
{
    public EmailEvidence ToEvidence() => EmailEvidence.Bounced(Address, BouncedAt, Reply);
}

/// <summary>
/// Addresses callers reported to bounce, part of their domain's knowledge for every account and process: INVALID from then
/// on, never asked of the domain's server again (so neither a remembered SMTP answer nor a new one brings them back), and no
/// support for the domain's pattern (<see cref="DomainKnowledge.GetAsync"/> leaves them out).
/// </summary>
public sealed class BouncedAddresses(Database database, TimeProvider time) : IKnownBounces
{
    /// <summary>
    /// Records the bounce (the first report of an address stands) and forgets the address as support of its domain's pattern,
    /// in one transaction.
    /// </summary>
    public Task RecordAsync(string address, DateTimeOffset bouncedAt, string? reply, CancellationToken cancellationToken)
    {
        var at = address.LastIndexOf('@');
        var (local, domain) = (address[..at], address[(at + 1)..]);
        return database.InTransactionAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO bounced_addresses (domain, local_part, bounced_at, reply, reported_at) VALUES (@domain, @local, @bouncedAt, @reply, @now)
                ON CONFLICT (domain, local_part) DO NOTHING
                """, new { domain, local, bouncedAt = bouncedAt.ToUnixTimeMilliseconds(), reply, now = time.GetUtcNow().ToUnixTimeMilliseconds() },
                transaction, cancellationToken: cancellationToken));
            return await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM domain_addresses WHERE domain = @domain AND local_part = @local",
                new { domain, local }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<EmailEvidence>> AmongAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken)
    {
        var wanted = addresses.Select(a => a.ToLowerInvariant()).Where(a => a.LastIndexOf('@') > 0).ToHashSet(StringComparer.Ordinal);
        if (wanted.Count == 0)
        {
            return [];
        }

        var domains = wanted.Select(a => a[(a.LastIndexOf('@') + 1)..]).Distinct().ToArray();
        var locals = wanted.Select(a => a[..a.LastIndexOf('@')]).Distinct().ToArray();
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT domain AS Domain, local_part AS LocalPart, bounced_at AS BouncedAt, reply AS Reply FROM bounced_addresses WHERE domain {database.InAny("domains")} AND local_part {database.InAny("locals")}",
            new { domains, locals }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToBounce()).Where(bounce => wanted.Contains(bounce.Address)).Select(bounce => bounce.ToEvidence()).ToList();
    }

    /// <summary>Every address of the domain reported to bounce.</summary>
    internal static async Task<IReadOnlyList<ReportedBounce>> AtAsync(System.Data.Common.DbConnection connection, string domain, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT domain AS Domain, local_part AS LocalPart, bounced_at AS BouncedAt, reply AS Reply FROM bounced_addresses WHERE domain = @domain",
            new { domain }, cancellationToken: cancellationToken))).Select(row => row.ToBounce()).ToList();

    private sealed class Row
    {
        public string Domain { get; set; } = "";
        public string LocalPart { get; set; } = "";
        public long BouncedAt { get; set; }
        public string? Reply { get; set; }

        public ReportedBounce ToBounce() => new($"{LocalPart}@{Domain}", DateTimeOffset.FromUnixTimeMilliseconds(BouncedAt), Reply);
    }
}
