using System.Net;

namespace PeopleEnrich.Verification.Dns;

/// <summary>One host that takes a domain's mail, with its addresses.</summary>
public sealed record MailHost(string Name, int Preference, IReadOnlyList<IPAddress> Addresses);

/// <summary>What DNS says about where a domain's mail goes (what was seen, not a verdict).</summary>
public abstract record MailRouting
{
    /// <summary>MX hosts in preference order (or the domain itself, as the implicit MX of RFC 5321 §5.1).</summary>
    public sealed record Hosts(IReadOnlyList<MailHost> Exchangers, bool Implicit) : MailRouting;

    /// <summary>The domain takes no mail: NXDOMAIN, a null MX (RFC 7505), or no MX and no address.</summary>
    public sealed record NoMail(string Why) : MailRouting;

    /// <summary>DNS did not answer (time-out, SERVFAIL): nothing can be said now.</summary>
    public sealed record Unresolved(string Why) : MailRouting;
}
