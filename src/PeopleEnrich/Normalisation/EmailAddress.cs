namespace PeopleEnrich.Normalisation;

/// <summary>
/// An address as the rest of the program writes it: lower case, its domain in the normal form of <see cref="DomainName"/>
/// ("Jane.Doe@ACME.com." is jane.doe@acme.com). Only plain addresses: no display name, no quoted or bracketed parts.
/// </summary>
public static class EmailAddress
{
    public const int MaxLocalPart = 64;

    public static bool TryNormalise(string? input, out string address, out string problem)
    {
        address = "";
        var value = input?.Trim().ToLowerInvariant() ?? "";
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
        {
            problem = "is not an email address (local-part@domain)";
            return false;
        }

        var local = value[..at];
        if (local.Length > MaxLocalPart || local.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '@' or '<' or '>' or '"' or '(' or ')' or ',' or ';' or ':' or '[' or ']' or '\\'))
        {
            problem = "is not a plain email address: its local part has spaces, quotes, brackets or is over 64 characters";
            return false;
        }

        if (!DomainName.TryNormalise(value[(at + 1)..], out var domain, out var domainProblem))
        {
            problem = $"is not an email address: its domain {domainProblem}";
            return false;
        }

        address = $"{local}@{domain}";
        problem = "";
        return true;
    }

    public static string? NormaliseOrNull(string? input) => TryNormalise(input, out var address, out _) ? address : null;

    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];

    public static string LocalPartOf(string address) => address[..address.LastIndexOf('@')];
}
