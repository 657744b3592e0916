namespace PeopleEnrich.Vocabulary;

/// <summary>
/// Mailboxes of a function, not of a person. A server accepting one says nothing about the person we
/// look for, and RFC 2142 mailboxes (postmaster, abuse) must never be offered as someone's address.
/// </summary>
public static class RoleAddresses
{
    private static readonly HashSet<string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        // RFC 2142 and the usual service mailboxes.
        "postmaster", "hostmaster", "webmaster", "abuse", "security", "noc", "mailer-daemon", "root",
        "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces",
        // Company functions. Not "dev": it is also a first name (Dev Patel).
        "info", "information", "sales", "contact", "contacts", "support", "help", "helpdesk", "admin",
        "administrator", "office", "hello", "hi", "team", "hr", "jobs", "careers", "recruiting", "recruitment",
        "billing", "accounts", "accounting", "finance", "invoices", "invoice", "payments", "marketing", "press",
        "media", "pr", "news", "newsletter", "legal", "privacy", "compliance", "it", "ops", "operations",
        "service", "services", "customerservice", "enquiries", "inquiries", "feedback", "orders", "purchasing",
        "procurement", "reception", "mail", "email", "all", "staff", "everyone", "board", "management",
        "partners", "investors", "ir", "devops", "engineering", "tech", "studio", "welcome", "events",
    };

    /// <summary>True for a role mailbox; "info+tag" and "Sales" count too.</summary>
    public static bool IsRole(string localPart)
    {
        var bare = localPart.Trim();
        var tag = bare.IndexOf('+');
        return Known.Contains(tag >= 0 ? bare[..tag] : bare);
    }
}
