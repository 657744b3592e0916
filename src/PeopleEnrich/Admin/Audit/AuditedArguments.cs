using System.Security.Cryptography;
using System.Text;

namespace PeopleEnrich.Admin.Audit;

/// <summary>
/// A command's arguments as the audit trail keeps them: each secret's value replaced by "***" (the value after a
/// secret-bearing option, or joined to it with '='); a person's identifiers (<c>--email</c>, <c>--linkedin</c>,
/// <c>--person</c>) by a short SHA-256 of them, since the trail is kept for ever and an erasure must not leave the
/// person in it (an operator can still check "was X erased?" by hashing X); a <c>--url</c> by its origin alone (a webhook's
/// path or query often holds a token); everything else as typed, quoted when
/// it holds a space.
/// </summary>
public static class AuditedArguments
{
    /// <summary>Options whose value is a secret (API keys, webhook secrets, passwords, tokens).</summary>
    private static readonly HashSet<string> SecretOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        "--key", "--api-key", "--secret", "--webhook-secret", "--password", "--token",
    };

    /// <summary>Options whose value is a URL that may carry a token in its path or query (a webhook's): only its origin is kept.</summary>
    private static readonly HashSet<string> UrlOptions = new(StringComparer.OrdinalIgnoreCase) { "--url" };

    private static readonly HashSet<string> PersonalOptions = new(StringComparer.OrdinalIgnoreCase) { "--email", "--linkedin", "--person" };

    private const string Masked = "***";

    /// <summary>"sha256:" and the first 12 hex digits of the SHA-256 of the value, trimmed and lower-case.</summary>
    public static string Fingerprint(string value) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value.Trim().ToLowerInvariant())))[..12];

    /// <summary>"https://host:port/***" for a URL with more than its origin; a value that is no URL is masked whole.</summary>
    private static string Origin(string value) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && uri.UserInfo.Length == 0
            ? uri.PathAndQuery is "/" or "" && uri.Fragment.Length == 0 ? uri.GetLeftPart(UriPartial.Authority) : uri.GetLeftPart(UriPartial.Authority) + "/" + Masked
            : Masked;

    public static string Mask(IReadOnlyList<string> arguments)
    {
        var kept = new List<string>(arguments.Count);
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && SecretOptions.Contains(argument[..equals]))
            {
                kept.Add(argument[..(equals + 1)] + Masked);
            }
            else if (equals > 0 && UrlOptions.Contains(argument[..equals]))
            {
                kept.Add(argument[..(equals + 1)] + Origin(argument[(equals + 1)..]));
            }
            else if (equals > 0 && PersonalOptions.Contains(argument[..equals]))
            {
                kept.Add(argument[..(equals + 1)] + Fingerprint(argument[(equals + 1)..]));
            }
            else if (SecretOptions.Contains(argument) && i + 1 < arguments.Count)
            {
                kept.Add(argument);
                kept.Add(Masked);
                i++;
            }
            else if (UrlOptions.Contains(argument) && i + 1 < arguments.Count)
            {
                kept.Add(argument);
                kept.Add(Origin(arguments[++i]));
            }
            else if (PersonalOptions.Contains(argument) && i + 1 < arguments.Count)
            {
                kept.Add(argument);
                kept.Add(Fingerprint(arguments[++i]));
            }
            else
            {
                kept.Add(argument.Contains(' ', StringComparison.Ordinal) ? $"\"{argument}\"" : argument);
            }
        }

        return string.Join(' ', kept);
    }
}
