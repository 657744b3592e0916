using System.Globalization;

namespace PeopleEnrich.MailWorld;

/// <summary>A telephone number as a site writes it (national format) and as a parser should read it (E.164).</summary>
public sealed record SitePhone(string E164, string National);

/// <summary>
/// The countries generated websites belong to: the domain's top-level suffix, the words of its pages, and telephone
/// numbers in its national format from ranges libphonenumber holds valid (never emergency or premium numbers).
/// </summary>
internal sealed record Country(
    string Region,
    string? Suffix,
    string Language,
    IReadOnlyList<string> TeamPaths,
    string TeamTitle,
    string SwitchboardLabel,
    string PhoneLabel,
    string PrivateTitle,
    string MobileLabel,
    Func<Random, SitePhone> Landline,
    Func<Random, SitePhone> Mobile)
{
    /// <summary>Domains without a country suffix (the generator's .test) are American, as the brief of the crawler assumes.</summary>
    public static Country UnitedStates { get; } = new(
        "US", null, "en", ["/team", "/about-us/team", "/our-people"], "Our team", "Switchboard", "Phone", "Staff directory", "Mobile",
        UsNumber, UsNumber);

    public static IReadOnlyList<Country> WithSuffix { get; } =
    [
        new("GB", ".co.uk", "en", ["/team", "/about-us/team", "/meet-the-team"], "Meet the team", "Switchboard", "Tel", "Staff directory", "Mobile",
            r => Number("+44", "020 3", Digits(r, 3), " ", Digits(r, 4)),
            r => Number("+44", "074", r.Next(10) switch { 5 => "6", var d => d.ToString(CultureInfo.InvariantCulture) }, Digits(r, 1), " ", Digits(r, 6))),
        new("DE", ".de", "de", ["/team", "/kontakt", "/ueber-uns/team"], "Unser Team", "Zentrale", "Telefon", "Mitarbeiterverzeichnis", "Mobil",
            r => Number("+49", r.Next(2) == 0 ? "030 " : "089 ", NonZero(r), Digits(r, 7)),
            r => Number("+49", "015", r.Next(2) == 0 ? "1" : "2", " ", NonZero(r), Digits(r, 7))),
        new("FR", ".fr", "fr", ["/equipe", "/a-propos/equipe", "/contact"], "Notre équipe", "Standard", "Tél.", "Annuaire interne", "Portable",
            r => Number("+33", "01 ", Pairs(r, 4, first: NonZero(r))),
            r => Number("+33", "06 ", Pairs(r, 4, first: "1"))),
    ];

    /// <summary>
    /// A national number and its E.164 form: the E.164 digits are the national ones without the trunk 0 (or, for the
    /// US, with the country code 1 before the ten digits).
    /// </summary>
    private static SitePhone Number(string countryCode, params string[] parts)
    {
        var national = string.Concat(parts);
        var digits = new string(national.Where(char.IsAsciiDigit).ToArray());
        return new SitePhone(countryCode + digits.TrimStart('0'), national);
    }

    /// <summary>(212) 345-6789: a real area code, an exchange that is neither N11 nor 555, any line.</summary>
    private static SitePhone UsNumber(Random r)
    {
        string[] areas = ["212", "312", "415", "617", "206", "512", "303", "404"];
        var area = areas[r.Next(areas.Length)];
        string exchange;
        do exchange = NonOne(r) + Digits(r, 2);
        while (exchange[1..] == "11" || exchange == "555");
        var line = Digits(r, 4);
        return new SitePhone($"+1{area}{exchange}{line}", $"({area}) {exchange}-{line}");
    }

    private static string NonOne(Random r) => r.Next(2, 10).ToString(CultureInfo.InvariantCulture);

    private static string NonZero(Random r) => r.Next(1, 10).ToString(CultureInfo.InvariantCulture);

    private static string Digits(Random r, int count) =>
        string.Concat(Enumerable.Range(0, count).Select(_ => r.Next(10).ToString(CultureInfo.InvariantCulture)));

    /// <summary>French grouping: "23 45 67 89" after the first pair, whose second digit is given.</summary>
    private static string Pairs(Random r, int pairs, string first) =>
        first + Digits(r, 1) + string.Concat(Enumerable.Range(0, pairs - 1).Select(_ => " " + Digits(r, 2)));
}
