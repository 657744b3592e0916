namespace PeopleEnrich.Admin.Audit;

/// <summary>
/// A command's arguments as the audit trail keeps them: each secret's value replaced by "***" (the value after a
/// secret-bearing option, or joined to it with '='), everything else as typed, quoted when it holds a space.
/// </summary>
public static class AuditedArguments
{
    /// <summary>Options whose value is a secret (API keys, webhook secrets, passwords, tokens).</summary>
    private static readonly HashSet<string> SecretOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        "--key", "--api-key", "--secret", "--webhook-secret", "--password", "--token",
    };

    private const string Masked = "***";

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
            else if (SecretOptions.Contains(argument) && i + 1 < arguments.Count)
            {
                kept.Add(argument);
                kept.Add(Masked);
                i++;
            }
            else
            {
                kept.Add(argument.Contains(' ', StringComparison.Ordinal) ? $"\"{argument}\"" : argument);
            }
        }

        return string.Join(' ', kept);
    }
}
