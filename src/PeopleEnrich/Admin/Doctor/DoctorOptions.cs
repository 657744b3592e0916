namespace PeopleEnrich.Admin.Doctor;

/// <summary>The doctor's settings (section "Doctor").</summary>
public sealed class DoctorOptions
{
    public static readonly IReadOnlyList<string> DefaultBlockLists = ["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"];

    /// <summary>
    /// DNS block-list zones asked about the address the mail servers see; unset means <see cref="DefaultBlockLists"/>.
    /// Null by default because the configuration binder adds to a list it finds filled rather than replacing it.
    /// </summary>
    public List<string>? BlockLists { get; set; }

    public IReadOnlyList<string> EffectiveBlockLists =>
        BlockLists?.Select(zone => zone.Trim().TrimEnd('.').ToLowerInvariant()).Where(zone => zone.Length > 0).ToList() is { Count: > 0 } zones
            ? zones
            : DefaultBlockLists;
}
