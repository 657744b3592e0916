using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Privacy;

/// <summary>
/// The people and domains not to be processed, shared by every process through the database (changes take effect
/// at the next item, also while the server runs). An item is suppressed when its domain is, its LinkedIn profile is,
/// its name at its domain is, or a suppressed address at its domain fits its name (jane.doe@ for Jane Doe).
/// </summary>
public sealed class SuppressionList(Database database, TimeProvider time)
{
    /// <summary>Adds what is not there yet; returns how many were new.</summary>
    public Task<int> AddAsync(IEnumerable<(SuppressionKind Kind, string Value, string? Domain)> keys, string reason, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var added = 0;
            foreach (var (kind, value, domain) in keys)
            {
                added += await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO suppressions (kind, value, domain, reason, created_at) VALUES (@kind, @value, @domain, @reason, @now)
                    ON CONFLICT (kind, value) DO NOTHING
                    """, new { kind = kind.ToString(), value, domain, reason, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
            }

            return added;
        }, cancellationToken);

    /// <summary>Removes these; returns how many there were.</summary>
    public Task<int> RemoveAsync(IEnumerable<(SuppressionKind Kind, string Value, string? Domain)> keys, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var removed = 0;
            foreach (var (kind, value, _) in keys)
            {
                removed += await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM suppressions WHERE kind = @kind AND value = @value", new { kind = kind.ToString(), value }, transaction, cancellationToken: cancellationToken));
            }

            return removed;
        }, cancellationToken);

    public async Task<IReadOnlyList<Suppression>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT kind, value, domain, reason, created_at AS CreatedAt FROM suppressions ORDER BY created_at DESC, kind, value", cancellationToken: cancellationToken));
        return rows.Select(row => row.ToSuppression()).ToList();
    }

    /// <summary>
    /// What the suppressions say of this person, read once for the item: whether one covers them, and (from the same rows)
    /// which addresses found for them at their domain are suppressed. A suppression added later applies from the next item.
    /// </summary>
    public async Task<PersonSuppressions> ForAsync(Person person, CancellationToken cancellationToken)
    {
        var profile = Normalisation.MatchKeys.LinkedIn(person.LinkedInUrl);
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition("""
            SELECT kind, value, domain, reason, created_at AS CreatedAt FROM suppressions
            WHERE domain = @Domain OR (kind = 'LinkedIn' AND value = @profile)
            """, new { person.Domain, profile }, cancellationToken: cancellationToken));
        var candidates = rows.Select(row => row.ToSuppression()).ToList();
        return new PersonSuppressions(this, person.Domain, Covering(person, profile, candidates), candidates);
    }

    private static Suppression? Covering(Person person, string? profile, IReadOnlyList<Suppression> candidates)
    {
        if (candidates.Count == 0)
        {
            return null;
        }

        var personKey = NamedPerson.PersonKey(person.FirstName, person.LastName, person.Domain);
        var names = PersonNames.Parse(person.FirstName, person.LastName);
        return candidates.FirstOrDefault(s => s.Kind == SuppressionKind.Domain)
            ?? candidates.FirstOrDefault(s => s.Kind switch
            {
                SuppressionKind.LinkedIn => s.Value == profile,
                SuppressionKind.Person => s.Value == personKey,
                SuppressionKind.Email => !names.IsEmpty && AddressPatterns.Detect(s.Value[..s.Value.LastIndexOf('@')], names).Count > 0,
                _ => false,
            });
    }

    /// <summary>Which of these addresses are suppressed (by themselves or by their domain).</summary>
    public async Task<IReadOnlySet<string>> SuppressedAmongAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken)
    {
        if (addresses.Count == 0)
        {
            return new HashSet<string>();
        }

        var lowered = addresses.Select(a => a.ToLowerInvariant()).Distinct().ToArray();
        var domains = lowered.Select(a => a[(a.LastIndexOf('@') + 1)..]).Distinct().ToArray();
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string Kind, string Value)>(new CommandDefinition(
            $"SELECT kind, value FROM suppressions WHERE (kind = 'Email' AND value {database.InAny("lowered")}) OR (kind = 'Domain' AND value {database.InAny("domains")})",
            new { lowered, domains }, cancellationToken: cancellationToken))).ToList();
        return addresses.Where(address => rows.Any(row => row.Kind == nameof(SuppressionKind.Email)
            ? row.Value == address.ToLowerInvariant()
            : address.EndsWith("@" + row.Value, StringComparison.OrdinalIgnoreCase))).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private sealed record Row(string Kind, string Value, string? Domain, string Reason, long CreatedAt)
    {
        public Suppression ToSuppression() =>
            new(Enum.Parse<SuppressionKind>(Kind), Value, Domain, Reason, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt));
    }
}

/// <summary>
/// The suppressions of one person's domain and LinkedIn profile, read once (<see cref="SuppressionList.ForAsync"/>): the one
/// that covers the person, if any, and the addresses found for them that are suppressed, those at the person's domain answered
/// from these rows (an address's and a domain's suppressions carry their domain), others asked of the list.
/// </summary>
public sealed class PersonSuppressions
{
    private readonly SuppressionList _list;
    private readonly string _domain;
    private readonly IReadOnlyList<Suppression> _atDomain;

    internal PersonSuppressions(SuppressionList list, string domain, Suppression? covering, IReadOnlyList<Suppression> read)
    {
        _list = list;
        _domain = domain;
        Covering = covering;
        _atDomain = read.Where(s => s.Domain is not null && s.Domain.Equals(domain, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>The suppression that covers the person, if any.</summary>
    public Suppression? Covering { get; }

    /// <summary>Which of these addresses are suppressed (by themselves or by their domain).</summary>
    public async Task<IReadOnlySet<string>> SuppressedAmongAsync(IReadOnlyCollection<string> addresses, CancellationToken cancellationToken)
    {
        var atDomain = addresses.Where(a => a.EndsWith("@" + _domain, StringComparison.OrdinalIgnoreCase)).ToList();
        var suppressed = atDomain.Where(address => _atDomain.Any(s => s.Kind switch
        {
            SuppressionKind.Domain => true,
            SuppressionKind.Email => s.Value.Equals(address, StringComparison.OrdinalIgnoreCase),
            _ => false,
        })).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var elsewhere = addresses.Except(atDomain).ToList();
        if (elsewhere.Count > 0)
        {
            suppressed.UnionWith(await _list.SuppressedAmongAsync(elsewhere, cancellationToken));
        }

        return suppressed;
    }
}
