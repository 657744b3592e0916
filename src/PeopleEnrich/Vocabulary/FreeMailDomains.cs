namespace PeopleEnrich.Vocabulary;

/// <summary>
/// Domains where anyone can open a mailbox: free mail and throw-away services. A person's address
/// there is not a professional address, and the domain says nothing of where they work, so the finder
/// never guesses at them.
/// </summary>
public static class FreeMailDomains
{
    private static readonly HashSet<string> FreeMail = new(StringComparer.OrdinalIgnoreCase)
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",
        "yahoo.com", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com", "aim.com",
        "web.de", "freenet.de", "t-online.de", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru", "ya.ru",
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io", "zoho.com",
        "zohomail.com", "mail.com", "email.com", "usa.com", "fastmail.com", "hushmail.com", "qq.com", "163.com",
        "126.com", "sina.com", "naver.com", "daum.net", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
        "libero.it", "virgilio.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "rediffmail.com",
        "btinternet.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
    };

    // Providers with one brand under many country domains: gmx.de, gmx.net, yahoo.co.uk, hotmail.fr…
    private static readonly HashSet<string> FreeMailBrands = new(StringComparer.OrdinalIgnoreCase)
    {
        "gmx", "yandex", "yahoo", "hotmail", "outlook", "live", "aol",
    };

    private static readonly HashSet<string> Disposable = new(StringComparer.OrdinalIgnoreCase)
    {
        "mailinator.com", "guerrillamail.com", "guerrillamail.net", "guerrillamail.org", "guerrillamail.biz",
        "guerrillamail.de", "guerrillamailblock.com", "sharklasers.com", "grr.la", "10minutemail.com",
        "10minutemail.net", "temp-mail.org", "tempmail.com", "tempmail.net", "yopmail.com", "yopmail.fr",
        "trashmail.com", "trashmail.de", "maildrop.cc", "dispostable.com", "getnada.com", "throwawaymail.com",
        "fakeinbox.com", "mailnesia.com", "mintemail.com", "tempr.email", "emailondeck.com", "mohmal.com",
        "spamgourmet.com", "mailcatch.com", "discard.email", "burnermail.io", "33mail.com", "mytemp.email",
    };

    /// <summary>True for a free-mail or disposable domain (case and a trailing dot do not matter).</summary>
    public static bool Contains(string domain)
    {
        var name = Bare(domain);
        return FreeMail.Contains(name) || Disposable.Contains(name) || IsBrandCountryDomain(name);
    }

    public static bool IsDisposable(string domain) => Disposable.Contains(Bare(domain));

    private static string Bare(string domain) => domain.Trim().TrimEnd('.');

    // gmx.at or yahoo.co.uk, but not yahoo.acme.com: the brand followed only by a public suffix.
    private static bool IsBrandCountryDomain(string name)
    {
        var labels = name.Split('.');
        return labels.Length is 2 or 3 && FreeMailBrands.Contains(labels[0]) && PublicSuffixes.IsPublicSuffix(name[(labels[0].Length + 1)..]);
    }
}
