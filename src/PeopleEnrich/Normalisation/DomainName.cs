using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Normalisation;

/// <summary>
/// Company domains as the contract accepts them: loosely written ("https://www.Acme.com/about"),
/// stored as the bare ASCII host ("acme.com").
/// </summary>
public static partial class DomainName
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    public static bool TryNormalise(string? input, out string domain, out string problem)
    {
        domain = "";
        var value = input?.Trim() ?? "";
        if (value.Length == 0)
        {
            problem = "is empty";
            return false;
        }

        if (value.Any(char.IsWhiteSpace))
        {
            problem = "contains spaces; give the company's domain, such as acme.com";
            return false;
        }

        if (value.Contains('@'))
        {
            problem = "contains '@'; give the company's domain (acme.com), not an email address";
            return false;
        }

        value = Scheme().Replace(value, "");
        var end = value.IndexOfAny(['/', '?', '#']);
        if (end >= 0)
        {
            value = value[..end];
        }

        if (value.StartsWith('['))
        {
            problem = "is an IP address; give the company's domain name";
            return false;
        }

        value = Port().Replace(value, "").TrimEnd('.').ToLowerInvariant();
        if (IPAddress.TryParse(value, out _))
        {
            problem = "is an IP address; give the company's domain name";
            return false;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(value);
        }
        catch (ArgumentException)
        {
            problem = "is not a valid host name";
            return false;
        }

        if (ascii.StartsWith("www.", StringComparison.Ordinal) && ascii.Count(c => c == '.') >= 2)
        {
            ascii = ascii[4..];
        }

        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            problem = "is a single label; give a full domain such as acme.com";
            return false;
        }

        if (ascii.Length > 253 || labels.Any(label => !Label().IsMatch(label)) || labels[^1].All(char.IsAsciiDigit))
        {
            problem = "is not a valid host name";
            return false;
        }

        domain = ascii;
        problem = "";
        return true;
    }

    /// <summary>The normalised domain, or null when the value is not one (CSV imports, matching).</summary>
    public static string? NormaliseOrNull(string? input) => TryNormalise(input, out var domain, out _) ? domain : null;

    [GeneratedRegex("^[a-z][a-z0-9+.-]*://", RegexOptions.IgnoreCase)]
    private static partial Regex Scheme();

    [GeneratedRegex(":[0-9]*$")]
    private static partial Regex Port();

    [GeneratedRegex("^(?!-)[a-z0-9-]{1,63}(?<!-)$")]
    private static partial Regex Label();
}
