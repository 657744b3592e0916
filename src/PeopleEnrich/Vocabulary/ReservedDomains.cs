namespace PeopleEnrich.Vocabulary;

/// <summary>
/// Domains that can have no real mailboxes (RFC 2606, RFC 6761): .invalid, .localhost, .example and
/// example.com/.net/.org. Nobody is asked about them and nothing is guessed for them.
/// .test is deliberately NOT here although RFC 2606 reserves it too: the simulated mail world the
/// tests run against serves *.test on loopback, and it must be reachable like any company.
/// </summary>
public static class ReservedDomains
{
    private static readonly string[] ReservedTopLevel = ["invalid", "localhost", "example"];

    private static readonly string[] ReservedSecondLevel = ["example.com", "example.net", "example.org"];

    public static bool NeverContact(string domain)
    {
        var name = domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0)
        {
            return true;
        }

        var topLevel = name[(name.LastIndexOf('.') + 1)..];
        return ReservedTopLevel.Contains(topLevel)
               || ReservedSecondLevel.Any(reserved => name == reserved || name.EndsWith("." + reserved, StringComparison.Ordinal));
    }
}
