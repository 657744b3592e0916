using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// Email addresses as pages write them: plain, in mailto: links, spelled out against harvesters
/// ("jane [at] acme [dot] com", "jane(at)acme.com", "jane AT acme DOT com"), or hidden by Cloudflare's
/// email protection (a hex string whose first byte is the XOR key of the rest).
/// </summary>
public static partial class EmailText
{
    /// <summary>The addresses in a piece of text, lower-cased, each once.</summary>
    public static IReadOnlyList<string> Find(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var plain = Unobfuscate(text);
        return Address().Matches(plain).Select(m => m.Value.TrimEnd('.', '-').ToLowerInvariant()).Where(IsAddress).Distinct().ToList();
    }

    /// <summary>The addresses of a mailto: link ("mailto:jane@acme.com,john@acme.com?subject=Hi").</summary>
    public static IReadOnlyList<string> FromMailto(string href)
    {
        var value = href.Trim();
        if (!value.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        value = value["mailto:".Length..];
        var query = value.IndexOf('?');
        if (query >= 0)
        {
            value = value[..query];
        }

        return Uri.UnescapeDataString(value).Split(',', ';').SelectMany(Find).Distinct().ToList();
    }

    /// <summary>Cloudflare's encoding: hex pairs, the first the key, each next one XOR the key a character of the address. Null when it is not one.</summary>
    public static string? DecodeCloudflare(string encoded)
    {
        var hex = encoded.Trim();
        if (hex.Length < 4 || hex.Length % 2 != 0 || !hex.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        var key = byte.Parse(hex.AsSpan(0, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var bytes = new byte[(hex.Length / 2) - 1];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(byte.Parse(hex.AsSpan(2 + (2 * i), 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) ^ key);
        }

        var decoded = Uri.UnescapeDataString(Encoding.UTF8.GetString(bytes));
        return Find(decoded) is [var address] ? address : null;
    }

    private static string Unobfuscate(string text)
    {
        var value = BracketedAt().Replace(text, "@");
        value = BracketedDot().Replace(value, ".");
        return SpelledOut().Replace(value, match =>
            match.Groups["local"].Value + "@" + match.Groups["domain"].Value + string.Concat(match.Groups["label"].Captures.Select(c => "." + c.Value)));
    }

    // The local part is kept to the characters an address of a person uses; the domain needs a dot and a TLD of letters.
    private static bool IsAddress(string address)
    {
        var at = address.IndexOf('@');
        return at is > 0 and <= 64 && address.Length <= 254 && !address.Contains("..", StringComparison.Ordinal)
               && address[(at + 1)..].Split('.')[^1].All(char.IsAsciiLetter);
    }

    [GeneratedRegex(@"[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    [GeneratedRegex(@"\s*[\[\(\{<]\s*(?:at|@|arobase|ät)\s*[\]\)\}>]\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BracketedAt();

    [GeneratedRegex(@"\s*[\[\(\{<]\s*(?:dot|punkt|point|punto|\.)\s*[\]\)\}>]\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BracketedDot();

    // "jane AT acme DOT com": only with the dot spelled out as well, so "meet us at the office" stays prose.
    [GeneratedRegex(@"\b(?<local>[a-z0-9][a-z0-9._-]*)\s+(?:at|AT)\s+(?<domain>[a-z0-9-]+)(?:\s+(?:dot|DOT)\s+(?<label>[a-z0-9-]+))+\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SpelledOut();
}
