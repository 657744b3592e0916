using PeopleEnrich.Normalisation;
using PhoneNumbers;

namespace PeopleEnrich.Sources.Website;

/// <summary>A number found in a text, and where: [Start, End).</summary>
public sealed record PhoneMatch(SitePhone Phone, int Start, int End);

/// <summary>
/// Phone numbers as pages write them: tel: links, and numbers in the text found by libphonenumber's
/// matcher. Only numbers valid for libphonenumber come out; one written without a country code is read
/// in the page's region, and dropped when there is none.
/// </summary>
public static class PhoneText
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>The numbers in <paramref name="text"/>, in order, with where each is written.</summary>
    public static IReadOnlyList<PhoneMatch> Find(string text, string? region)
    {
        if (!text.Any(char.IsAsciiDigit))
        {
            return [];
        }

        // "ZZ" (no region) still finds numbers written with their country code.
        return Util.FindNumbers(text, region ?? "ZZ", PhoneNumberUtil.Leniency.VALID, long.MaxValue)
            .Select(match => new PhoneMatch(
                new SitePhone(Util.Format(match.Number, PhoneNumberFormat.E164), Util.GetRegionCodeForNumber(match.Number)), match.Start, match.Start + match.Length))
            .ToList();
    }

    /// <summary>The number of a tel: link ("tel:+33-1-23-45-67-89", "tel:0123456789"), or null when it is not a valid one.</summary>
    public static SitePhone? FromTel(string href, string? region)
    {
        var value = href.Trim();
        if (!value.StartsWith("tel:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var number = Uri.UnescapeDataString(value[4..]).Split(';')[0];
        return PhoneNumberParser.TryParse(number, region, out var phone, out _) ? new SitePhone(phone!.E164, phone.Region) : null;
    }

    /// <summary>The region of a number written with its country code ("+44 20 …" is GB), for pages that give no other hint.</summary>
    public static string? RegionOfInternational(string text)
    {
        var found = Find(text, null);
        return found.GroupBy(p => p.Phone.Region).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
    }
}
