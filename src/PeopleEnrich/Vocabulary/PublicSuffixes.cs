namespace PeopleEnrich.Vocabulary;

/// <summary>
/// Public suffixes as far as the service needs them, without the whole Public Suffix List: a top-level domain, or a
/// short registry label under a two-letter country code (co.uk, com.au, ne.jp). Names under one belong to unrelated
/// owners, so nothing may treat such a suffix as one company's site or one organisation's mail service.
/// </summary>
public static class PublicSuffixes
{
    // Second-level labels under which country domains register names.
    private static readonly HashSet<string> RegistrySecondLevels = new(StringComparer.OrdinalIgnoreCase)
    {
        "co", "com", "net", "org", "ne", "or", "ac", "gov", "edu", "gv", "ltd", "plc", "me", "nom",
    };

    /// <summary>True for "uk", "com", "co.uk", "com.au" (case and a trailing dot do not matter); false for "acme.co.uk".</summary>
    public static bool IsPublicSuffix(string name)
    {
        var labels = name.Trim().TrimEnd('.').Split('.');
        return labels.Length == 1 || (labels.Length == 2 && RegistrySecondLevels.Contains(labels[0]) && labels[1].Length == 2);
    }
}
