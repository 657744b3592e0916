using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// How many recipients a mail host takes in one session, learnt from its "too many recipients" (Microsoft 365: one),
/// where every process sees it for <see cref="SmtpOptions.HostLimitsTtl"/>. A limit learnt at one host serves every
/// host of its mail service (<see cref="MailService.Of"/>): each domain at Microsoft 365 has a host of its own, and
/// relearning the limit at each would cost a recipient asked twice per domain.
/// </summary>
public interface IMailHostLimits
{
    /// <summary>The recipients a session at this host may ask, as learnt there or at another host of its mail service; null when none was learnt.</summary>
    Task<int?> RecipientLimitAsync(string host, CancellationToken cancellationToken);

    /// <summary>The host said "too many recipients" after <paramref name="recipients"/> of a session.</summary>
    Task RememberRecipientLimitAsync(string host, int recipients, CancellationToken cancellationToken);
}

public static class MailService
{
    /// <summary>
    /// The mail service a host belongs to: its parent domain when its name has three or more labels
    /// (x-com.mail.protection.outlook.com is mail.protection.outlook.com, mx1.acme.com is acme.com); null for a shorter name,
    /// and for a parent that is a public suffix (acme.co.uk is its own mail host, not co.uk's: one owner's limit must not
    /// hold every domain registered under it).
    /// </summary>
    public static string? Of(string host)
    {
        var name = host.Trim().TrimEnd('.').ToLowerInvariant();
        var parent = name.Count(c => c == '.') >= 2 ? name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..] : null;
        return parent is null || PublicSuffixes.IsPublicSuffix(parent) ? null : parent;
    }
}
