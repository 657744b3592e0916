using PhoneNumbers;

namespace PeopleEnrich.Normalisation;

public sealed record ParsedPhone(string E164, string Region);

/// <summary>Phone numbers in E.164 with their ISO region, through libphonenumber.</summary>
public static class PhoneNumberParser
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    // Country-code TLDs that are not the region's ISO code.
    private static readonly Dictionary<string, string> TldRegions = new(StringComparer.OrdinalIgnoreCase) { ["uk"] = "GB" };

    /// <summary>The region for numbers written without a country code: the domain's country-code TLD, if it is one.</summary>
    public static string? RegionOfDomain(string? domain)
    {
        var tld = domain?.Split('.')[^1];
        if (tld is null || tld.Length != 2)
        {
            return null;
        }

        var region = TldRegions.GetValueOrDefault(tld) ?? tld.ToUpperInvariant();
        return Util.GetSupportedRegions().Contains(region) ? region : null;
    }

    public static bool IsRegion(string? region) => region is not null && Util.GetSupportedRegions().Contains(region.ToUpperInvariant());

    /// <summary>The number in E.164, or the reason it is not a valid phone number.</summary>
    public static bool TryParse(string raw, string? defaultRegion, out ParsedPhone? phone, out string problem)
    {
        phone = null;
        try
        {
            var number = Util.Parse(raw, defaultRegion?.ToUpperInvariant());
            if (!Util.IsValidNumber(number))
            {
                problem = defaultRegion is null && !raw.TrimStart().StartsWith('+')
                    ? "is not a valid phone number (no country code, and no region to read it in)"
                    : "is not a valid phone number";
                return false;
            }

            phone = new ParsedPhone(Util.Format(number, PhoneNumberFormat.E164), Util.GetRegionCodeForNumber(number));
            problem = "";
            return true;
        }
        catch (NumberParseException exception)
        {
            problem = exception.ErrorType == ErrorType.INVALID_COUNTRY_CODE
                ? "has no country code, and there is no region to read it in"
                : "is not a phone number";
            return false;
        }
    }
}
