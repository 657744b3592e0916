using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// One SMTP reply (RFC 5321 §4.2): its three-digit code, its RFC 3463 enhanced status code when the
/// server gave one ("5.1.1"), and its text with the lines of a multiline reply joined by spaces.
/// </summary>
public sealed partial record SmtpReply(int Code, string? EnhancedCode, string Text)
{
    /// <summary>
    /// The first line's text alone (the whole text of a one-line reply): where an EHLO reply names the server, and
    /// where many servers echo the address they see us at ("mx.example Hello name [192.0.2.1]").
    /// </summary>
    public string FirstLine { get; init; } = Text;

    public bool IsPositive => Code is >= 200 and < 300;

    public bool IsTransientFailure => Code is >= 400 and < 500;

    public bool IsPermanentFailure => Code is >= 500 and < 600;

    /// <summary>
    /// Reads "250 OK", "550 5.1.1 No such user" or a multiline reply ("250-a\r\n250 b"); lines may end
    /// with CRLF or LF alone. False for anything that is not a reply.
    /// </summary>
    public static bool TryParse(string? raw, [NotNullWhen(true)] out SmtpReply? reply)
    {
        reply = null;
        var lines = (raw ?? "").Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1); // the CRLF that ends the last line
        }

        if (lines.Count == 0)
        {
            return false;
        }

        var parsed = new List<Match>(lines.Count);
        foreach (var line in lines)
        {
            var match = ReplyLine().Match(line);
            if (!match.Success)
            {
                return false;
            }

            parsed.Add(match);
        }

        var code = int.Parse(parsed[0].Groups["code"].Value);
        // Every line but the last says "-" after the code, and all lines carry the same code (§4.2.1).
        if (parsed.Any(m => int.Parse(m.Groups["code"].Value) != code)
            || parsed.Take(parsed.Count - 1).Any(m => m.Groups["more"].Value != "-")
            || parsed[^1].Groups["more"].Value == "-")
        {
            return false;
        }

        string? enhanced = null;
        var texts = new List<string>(parsed.Count);
        foreach (var match in parsed)
        {
            var text = match.Groups["text"].Value;
            // Servers repeat the enhanced code on every line (Gmail does); the reply has one.
            var status = EnhancedStatus().Match(text);
            if (status.Success && status.Groups["class"].Value[0] == (char)('0' + (code / 100)))
            {
                enhanced ??= status.Groups["status"].Value;
                text = text[status.Length..];
            }

            texts.Add(Printable(text).Trim());
        }

        reply = new SmtpReply(code, enhanced, string.Join(' ', texts.Where(t => t.Length > 0))) { FirstLine = texts[0] };
        return true;
    }

    public static SmtpReply Parse(string raw) =>
        TryParse(raw, out var reply) ? reply : throw new FormatException("Not an SMTP reply.");

    public override string ToString() => EnhancedCode is null ? $"{Code} {Text}" : $"{Code} {EnhancedCode} {Text}";

    /// <summary>The reply as a caller may read it (in a result's error or evidence): <see cref="WithholdAddresses"/>.</summary>
    public string ToCustomerString() => WithholdAddresses(ToString());

    /// <summary>
    /// A server's text with every IP address in it replaced by "address withheld". Servers echo the address they see
    /// us at ("Client host [192.0.2.1] blocked using zen.spamhaus.org"): that is the deployment's outgoing address,
    /// which the operator's logs keep and callers have no use for (nor should learn from a result they may share).
    /// </summary>
    public static string WithholdAddresses(string text) => IpAddress().Replace(text, "address withheld");

    // A remote server wrote this text: control characters are replaced so that it cannot forge log
    // lines or anything else it is later written into.
    private static string Printable(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            clean.Append(char.IsControl(c) ? ' ' : c);
        }

        return clean.ToString();
    }

    // IPv4 as a whole token; IPv6 in the forms servers write it: in brackets, after "IPv6:", all eight groups, or as a
    // whole token shortened with "::" (Exim's "rejected because 2001:db8::25 is in a black list", Gmail's "[2a00::1  15]").
    [GeneratedRegex(@"(?<![\w.])(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})){3}(?![\w.]*\w)|(?<=\[)(?:IPv6:)?[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?=\])|IPv6:[0-9A-Fa-f:.]+|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:.])(?=[0-9A-Fa-f:.]*::)[0-9A-Fa-f:.]*[0-9A-Fa-f](?![\w:])",
        RegexOptions.CultureInvariant)]
    private static partial Regex IpAddress();

    [GeneratedRegex(@"^(?<code>[2-5][0-9]{2})(?:(?<more>[ -])(?<text>.*))?$", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex ReplyLine();

    // "5.1.1", also written "#5.1.0" by some servers; the class must agree with the reply code.
    [GeneratedRegex(@"^\s*#?(?<status>(?<class>[245])\.[0-9]{1,3}\.[0-9]{1,3})(?=[\s,;:]|$)", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedStatus();
}
