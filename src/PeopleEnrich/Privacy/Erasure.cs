namespace PeopleEnrich.Privacy;

/// <summary>
/// Everything that identifies one person to be erased: their addresses, their LinkedIn profile key, and their name
/// keys at domains ("first|last|domain", <see cref="NamedPerson.PersonKey"/>). What the operator named, widened by
/// what the stores hold beside it (the directory row of a LinkedIn profile gives the name and the address).
/// </summary>
public sealed record ErasureSubject(IReadOnlySet<string> Emails, IReadOnlySet<string> LinkedInKeys, IReadOnlySet<string> PersonKeys)
{
    /// <summary>The domains this person is known at.</summary>
    public IReadOnlySet<string> Domains =>
        Emails.Select(e => e[(e.LastIndexOf('@') + 1)..]).Concat(PersonKeys.Select(k => k.Split('|')[2])).ToHashSet(StringComparer.Ordinal);

    public static ErasureSubject Of(IEnumerable<(SuppressionKind Kind, string Value, string? Domain)> keys)
    {
        var list = keys.ToList();
        return new ErasureSubject(
            list.Where(k => k.Kind == SuppressionKind.Email).Select(k => k.Value).ToHashSet(StringComparer.Ordinal),
            list.Where(k => k.Kind == SuppressionKind.LinkedIn).Select(k => k.Value).ToHashSet(StringComparer.Ordinal),
            list.Where(k => k.Kind == SuppressionKind.Person).Select(k => k.Value).ToHashSet(StringComparer.Ordinal));
    }

    public ErasureSubject With(ErasureSubject more) => new(
        Emails.Union(more.Emails).ToHashSet(StringComparer.Ordinal),
        LinkedInKeys.Union(more.LinkedInKeys).ToHashSet(StringComparer.Ordinal),
        PersonKeys.Union(more.PersonKeys).ToHashSet(StringComparer.Ordinal));

    public static ErasureSubject None { get; } = new(new HashSet<string>(), new HashSet<string>(), new HashSet<string>());

    /// <summary>The suppressions that keep this person out from now on.</summary>
    public IEnumerable<(SuppressionKind Kind, string Value, string? Domain)> Suppressions() =>
        Emails.Select(e => (SuppressionKind.Email, e, (string?)e[(e.LastIndexOf('@') + 1)..]))
            .Concat(LinkedInKeys.Select(k => (SuppressionKind.LinkedIn, k, (string?)null)))
            .Concat(PersonKeys.Select(k => (SuppressionKind.Person, k, (string?)k.Split('|')[2])));
}

/// <summary>A store of personal data (a room's own tables): it can say who else a person is known as, and erase them.</summary>
public interface IPersonalData
{
    /// <summary>What it holds, for the report ("directory contacts").</summary>
    string What { get; }

    /// <summary>The person's other identities this store links to what is known of them (their address in their directory row).</summary>
    Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken);

    /// <summary>Removes the person (or, for stored answers, blanks them); returns how many rows it changed.</summary>
    Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken);
}

/// <summary>
/// <c>people erase</c>: the person is found in every store (widened once by what each links to them), erased from
/// each, then suppressed so that nothing brings them back. Each store erases in its own transaction; running it
/// again after a failure finishes the job, and on a person already erased changes nothing but the count.
/// </summary>
public sealed class Erasure(IEnumerable<IPersonalData> stores, SuppressionList suppressions)
{
    public async Task<IReadOnlyList<(string What, int Count)>> EraseAsync(ErasureSubject named, CancellationToken cancellationToken)
    {
        var subject = named;
        foreach (var store in stores)
        {
            subject = subject.With(await store.LinkedToAsync(named, cancellationToken));
        }

        var report = new List<(string, int)>();
        foreach (var store in stores)
        {
            report.Add((store.What, await store.EraseAsync(subject, cancellationToken)));
        }

        report.Add(("suppressions added", await suppressions.AddAsync(subject.Suppressions(), Suppression.Erasure, cancellationToken)));
        return report;
    }
}

public static class PrivacySetup
{
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        services.AddSingleton<SuppressionList>();
        services.AddSingleton<Erasure>();
        return services;
    }
}
