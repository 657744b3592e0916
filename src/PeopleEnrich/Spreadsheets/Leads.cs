using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Spreadsheets;

/// <summary>A row that can be sent: the person as the API takes it.</summary>
public sealed record Lead(LeadRow Row, string FirstName, string LastName, string Domain, string? Company, string? LinkedInUrl);

/// <summary>A row that cannot be sent, and why, in words for the person who owns the file.</summary>
public sealed record SkippedRow(LeadRow Row, string Reason);

/// <summary>
/// Turns rows into people the API accepts, or says why a row cannot be sent. It checks what the
/// contract requires of every item (a first name, a last name, a host name as domain, no control
/// characters), so that one bad row never costs the other 99 of its batch a 422; the server stays the
/// judge of anything subtler (a row it still refuses is reported, and its batch sent without it).
/// </summary>
public static partial class Leads
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    public static (IReadOnlyList<Lead> Leads, IReadOnlyList<SkippedRow> Skipped) Read(LeadFile file, LeadColumns columns)
    {
        var leads = new List<Lead>();
        var skipped = new List<SkippedRow>();
        foreach (var row in file.Rows)
        {
            if (Interpret(row, columns) is { } lead)
            {
                leads.Add(lead);
            }
            else
            {
                skipped.Add(new SkippedRow(row, WhyNot(row, columns)));
            }
        }

        return (leads, skipped);
    }

    private static Lead? Interpret(LeadRow row, LeadColumns columns)
    {
        var first = FirstValue(row, columns.Of(LeadField.FirstName));
        var last = FirstValue(row, columns.Of(LeadField.LastName));
        var domain = DomainOf(FirstValue(row, columns.Of(LeadField.Domain)));
        return first is null || last is null || domain is null
            ? null
            : new Lead(row, first, last, domain, FirstValue(row, columns.Of(LeadField.Company)), FirstValue(row, columns.Of(LeadField.LinkedIn)));
    }

    private static string WhyNot(LeadRow row, LeadColumns columns)
    {
        if (row.Fields.All(string.IsNullOrWhiteSpace))
        {
            return "empty row";
        }

        var reasons = new List<string>();
        if (FirstValue(row, columns.Of(LeadField.FirstName)) is null)
        {
            reasons.Add("no first name");
        }

        if (FirstValue(row, columns.Of(LeadField.LastName)) is null)
        {
            reasons.Add("no last name");
        }

        var domainText = FirstValue(row, columns.Of(LeadField.Domain));
        if (domainText is null)
        {
            reasons.Add("no domain");
        }
        else if (DomainOf(domainText) is null)
        {
            reasons.Add($"'{domainText}' is not a company domain (such as acme.com)");
        }

        return string.Join(", ", reasons);
    }

    /// <summary>A row's value of <paramref name="field"/> as it would be sent (its first non-blank column), or null.</summary>
    public static string? Value(LeadRow row, LeadColumns columns, LeadField field) => FirstValue(row, columns.Of(field));

    /// <summary>The first non-blank value among <paramref name="columns"/>, as the API takes it: control characters and runs of spaces made one space.</summary>
    private static string? FirstValue(LeadRow row, IReadOnlyList<int> columns) =>
        columns.Select(c => Clean(row.Field(c))).FirstOrDefault(value => value.Length > 0);

    private static string Clean(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            text.Append(char.IsControl(c) || char.IsWhiteSpace(c) ? ' ' : c);
        }

        return string.Join(' ', text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// The host name in a domain, website or URL cell ("https://www.Acme.com/about" is acme.com; an
    /// address's domain is taken after its "@"), or null when there is none: an IP address, a single
    /// label, spaces.
    /// </summary>
    internal static string? DomainOf(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var host = value.Trim();
        if (host.LastIndexOf('@') is var at && at >= 0 && !host.Contains('/'))
        {
            host = host[(at + 1)..];
        }

        host = Scheme().Replace(host, "");
        if (host.IndexOfAny(['/', '?', '#']) is var end && end >= 0)
        {
            host = host[..end];
        }

        host = Port().Replace(host, "").TrimEnd('.').ToLowerInvariant();
        if (host.StartsWith("www.", StringComparison.Ordinal))
        {
            host = host[4..];
        }

        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '@' or '[' or ']' or ':') || IPAddress.TryParse(host, out _))
        {
            return null;
        }

        try
        {
            host = Idn.GetAscii(host);
        }
        catch (ArgumentException)
        {
            return null;
        }

        return host.Contains('.') && host.Length <= 253 ? host : null;
    }

    [GeneratedRegex("^[a-z][a-z0-9+.-]*://", RegexOptions.IgnoreCase)]
    private static partial Regex Scheme();

    [GeneratedRegex(":[0-9]+$")]
    private static partial Regex Port();
}
