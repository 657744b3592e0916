using Microsoft.Extensions.Options;

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

    /// <summary>The person's other identities this store links to what is known of them (their address in their directory row); most stores link none.</summary>
    Task<ErasureSubject> LinkedToAsync(ErasureSubject subject, CancellationToken cancellationToken) => Task.FromResult(ErasureSubject.None);

    /// <summary>Removes the person (or, for stored answers, blanks them); returns how many rows it changed.</summary>
    Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken);
}

/// <summary>The person's requests still being worked on: finished as erased, or waited for while a worker holds them.</summary>
public interface IUnfinishedWork
{
    /// <summary>Finishes as erased (no answer, nothing charged) the person's items no worker holds; returns how many a worker still holds.</summary>
    Task<int> FinishUnheldAsync(ErasureSubject subject, CancellationToken cancellationToken);
}

public sealed class ErasureOptions
{
    /// <summary>How long <c>people erase</c> waits for workers to finish the person's items they hold before it erases anyway.</summary>
    public TimeSpan WaitForWorkers { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a process that runs workers looks for erasures made elsewhere, to forget the erased addresses it holds in memory (<see cref="ErasureFollower"/>).</summary>
    public TimeSpan FollowErasuresEvery { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// <c>people erase</c>: the person is found in every store (widened once by what each links to them) and suppressed
/// first, so that no worker starts on them again; their unfinished items are finished as erased, and those a worker
/// holds are waited for, since what that worker learns (an address, a cached answer) lands after it; then they are
/// erased from each store. Each store erases in its own transaction; running it again after a failure finishes the
/// job, and on a person already erased changes nothing but the count.
/// </summary>
public sealed class Erasure(IEnumerable<IPersonalData> stores, SuppressionList suppressions, IUnfinishedWork unfinished, IOptions<ErasureOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public async Task<IReadOnlyList<(string What, int Count)>> EraseAsync(ErasureSubject named, CancellationToken cancellationToken)
    {
        var subject = await WidenedAsync(named, cancellationToken);
        var suppressed = await suppressions.AddAsync(subject.Suppressions(), Suppression.Erasure, cancellationToken);
        var giveUpAt = time.GetUtcNow() + options.Value.WaitForWorkers;
        int held;
        while ((held = await unfinished.FinishUnheldAsync(subject, cancellationToken)) > 0 && time.GetUtcNow() < giveUpAt)
        {
            await Task.Delay(Poll, time, cancellationToken);
        }

        // What the finished items found (the address a worker just verified) is the person's too.
        var found = await WidenedAsync(subject, cancellationToken);
        suppressed += await suppressions.AddAsync(found.Suppressions(), Suppression.Erasure, cancellationToken);
        subject = found;

        var report = new List<(string, int)>();
        foreach (var store in stores)
        {
            report.Add((store.What, await store.EraseAsync(subject, cancellationToken)));
        }

        report.Add(("suppressions added", suppressed));
        if (held > 0)
        {
            // Its worker still holds it: whatever it writes when it finishes is this person's again; a second run erases it.
            report.Add(("requests still being worked on (run this again when they finish)", held));
        }

        return report;
    }

    private async Task<ErasureSubject> WidenedAsync(ErasureSubject named, CancellationToken cancellationToken)
    {
        var subject = named;
        foreach (var store in stores)
        {
            subject = subject.With(await store.LinkedToAsync(named, cancellationToken));
        }

        return subject;
    }
}

public static class PrivacySetup
{
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        services.AddSingleton<SuppressionList>();
        return services;
    }
}
