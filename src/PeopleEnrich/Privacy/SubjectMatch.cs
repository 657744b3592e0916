using System.Globalization;
using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Privacy;

/// <summary>The SQL condition that finds a person's rows in a table keyed the usual way (an address, a LinkedIn key, name keys at a domain).</summary>
public static class SubjectMatch
{
    /// <param name="email">The column holding an address (compared lower-case), or null.</param>
    /// <param name="linkedIn">The column holding a LinkedIn match key, or null.</param>
    /// <param name="name">The columns holding the domain and the first and last name keys, or null.</param>
    /// <returns>The condition ("1 = 0" when nothing can match) and its parameters.</returns>
    public static (string Sql, DynamicParameters Parameters) Where(Database database, ErasureSubject subject, string? email, string? linkedIn, (string Domain, string First, string Last)? name)
    {
        var parameters = new DynamicParameters();
        var terms = new List<string>();
        if (email is not null && subject.Emails.Count > 0)
        {
            parameters.Add("emails", subject.Emails.ToArray());
            terms.Add($"LOWER({email}) {database.InAny("emails")}");
        }

        if (linkedIn is not null && subject.LinkedInKeys.Count > 0)
        {
            parameters.Add("profiles", subject.LinkedInKeys.ToArray());
            terms.Add($"{linkedIn} {database.InAny("profiles")}");
        }

        if (name is { } columns)
        {
            var i = 0;
            foreach (var key in subject.PersonKeys)
            {
                var parts = key.Split('|');
                var n = i++.ToString(CultureInfo.InvariantCulture);
                parameters.Add("first" + n, parts[0]);
                parameters.Add("last" + n, parts[1]);
                parameters.Add("domain" + n, parts[2]);
                terms.Add($"({columns.Domain} = @domain{n} AND {columns.First} = @first{n} AND {columns.Last} = @last{n})");
            }
        }

        return (terms.Count == 0 ? "1 = 0" : "(" + string.Join(" OR ", terms) + ")", parameters);
    }
}
