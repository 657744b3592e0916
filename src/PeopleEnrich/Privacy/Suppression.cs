using PeopleEnrich.Normalisation;

namespace PeopleEnrich.Privacy;

/// <summary>What a suppression names: one address, a whole domain, a LinkedIn profile, or a person by name at a domain.</summary>
public enum SuppressionKind { Email, Domain, LinkedIn, Person }

/// <summary>
/// One opt-out, by its match key (the same keys people are matched by everywhere: <see cref="MatchKeys"/>), with the
/// domain it belongs to and why it was added ("opt-out", "erasure").
/// </summary>
public sealed record Suppression(SuppressionKind Kind, string Value, string? Domain, string Reason, DateTimeOffset At)
{
    public const string OptOut = "opt-out";
    public const string Erasure = "erasure";

    /// <summary>What an item answers when it is suppressed: the person's own request, or their domain's.</summary>
    public const string PersonsRequest = "suppressed at the person's request";

    public const string DomainsRequest = "suppressed at the domain's request";

    public string Error => Kind == SuppressionKind.Domain ? DomainsRequest : PersonsRequest;

    /// <summary>How an operator would write it back (<c>suppressions remove …</c>).</summary>
    public string Describe() => Kind switch
    {
        SuppressionKind.Email => $"--email {Value}",
        SuppressionKind.Domain => $"--domain {Value}",
        SuppressionKind.LinkedIn => $"--linkedin https://www.{Value}",
        _ => $"--person \"{string.Join(' ', Value.Split('|')[..2])}\" --domain {Domain}",
    };
}

/// <summary>Who an operator names in a suppression or an erasure, as typed; <see cref="Keys"/> checks it and turns it into match keys.</summary>
public sealed record NamedPerson(string? Email, string? Domain, string? LinkedInUrl, string? FullName)
{
    /// <summary>The suppressions this names; a mistake (nothing named, a bad address or domain) is an <see cref="ArgumentException"/> saying which.</summary>
    public IReadOnlyList<(SuppressionKind Kind, string Value, string? Domain)> Keys()
    {
        var keys = new List<(SuppressionKind, string, string?)>();
        if (Email is not null)
        {
            var address = EmailAddress.NormaliseOrNull(Email) ?? throw new ArgumentException($"--email '{Email}' is not an email address.");
            keys.Add((SuppressionKind.Email, address, EmailAddress.DomainOf(address)));
        }

        var domain = Domain is null ? null
            : DomainName.TryNormalise(Domain, out var normalised, out var problem) ? normalised
            : throw new ArgumentException($"--domain '{Domain}': {problem}");
        if (FullName is not null)
        {
            var words = FullName.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length < 2 || domain is null)
            {
                throw new ArgumentException("--person takes \"First Last\" (both names) and needs --domain.");
            }

            keys.Add((SuppressionKind.Person, PersonKey(words[0], string.Join(' ', words[1..]), domain), domain));
        }
        else if (domain is not null)
        {
            keys.Add((SuppressionKind.Domain, domain, domain));
        }

        if (LinkedInUrl is not null)
        {
            keys.Add((SuppressionKind.LinkedIn, MatchKeys.LinkedIn(LinkedInUrl) is { } profile && profile.StartsWith("linkedin.com/in/", StringComparison.Ordinal)
                ? profile : throw new ArgumentException($"--linkedin '{LinkedInUrl}' is not a LinkedIn profile URL (linkedin.com/in/…)."), null));
        }

        return keys.Count > 0 ? keys : throw new ArgumentException("Name someone: --email, --domain, --linkedin, or --person \"First Last\" with --domain.");
    }

    /// <summary>The key of a person by name at a domain: "first|last|domain" in name match keys.</summary>
    public static string PersonKey(string firstName, string lastName, string domain) => $"{MatchKeys.Name(firstName)}|{MatchKeys.Name(lastName)}|{domain}";
}
