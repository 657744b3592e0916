using System.Text.Json;
using Dapper;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Privacy;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// What crawls kept of a person: the blocks of a page that name them or hold their address (with the numbers beside
/// them), and their personal addresses. The rest of the crawl stays: the company's switchboard, their colleagues.
/// </summary>
public sealed class WebsitePersonalData(Database database) : IPersonalData
{
    public string What => "website findings";

    public Task<int> EraseAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var erased = 0;
            foreach (var domain in subject.Domains)
            {
                var stored = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                    "SELECT findings FROM website_crawls WHERE domain = @domain", new { domain }, transaction, cancellationToken: cancellationToken));
                if (stored is null || JsonSerializer.Deserialize(stored, WebsiteJsonContext.Default.SiteFindings) is not { } findings)
                {
                    continue;
                }

                var names = subject.PersonKeys.Select(key => key.Split('|')).Where(parts => parts[2] == domain).Select(parts => $"{parts[0]} {parts[1]}").ToHashSet(StringComparer.Ordinal);
                bool Theirs(string address) => subject.Emails.Contains(address.ToLowerInvariant());
                var blocks = findings.Blocks.Where(b => !b.Emails.Any(Theirs) && !b.Names.Any(n => names.Contains(MatchKeys.Name(n)))).ToList();
                var addresses = findings.PersonalAddresses.Where(a => !Theirs(a.Address) && !names.Contains(MatchKeys.Name($"{a.FirstName} {a.LastName}"))).ToList();
                var removed = findings.Blocks.Count - blocks.Count + findings.PersonalAddresses.Count - addresses.Count;
                if (removed == 0)
                {
                    continue;
                }

                erased += removed;
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE website_crawls SET findings = @findings WHERE domain = @domain",
                    new { domain, findings = JsonSerializer.Serialize(findings with { Blocks = blocks, PersonalAddresses = addresses }, WebsiteJsonContext.Default.SiteFindings) },
                    transaction, cancellationToken: cancellationToken));
            }

            return erased;
        }, cancellationToken);
}
