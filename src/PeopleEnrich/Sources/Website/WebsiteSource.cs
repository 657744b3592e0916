using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Website;

/// <summary>
/// The company's own website. An address or a number written beside the person's name (same card,
/// row, list item or paragraph) is theirs: the address is reported as listed, for the email finder to
/// verify; a number is returned unless it is the company's switchboard. The other people's addresses
/// on the site teach the domain's pattern (when the crawl is made). A site that did not answer this
/// time, or whose names DNS did not answer for, is a gap (<see cref="SourceFindings.CouldNotCheck"/>):
/// the person's answer is not kept, and says so when it stays.
/// </summary>
public sealed class WebsiteSource(WebsiteCrawls crawls, IOptions<CrawlerOptions> options) : IEnrichmentSource
{
    public string Name => "website";

    public EnrichFields Provides => EnrichFields.Emails | EnrichFields.Phones;

    public async Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled || !SiteScope.IsCrawlable(person.Domain) || string.IsNullOrWhiteSpace(person.FirstName) || string.IsNullOrWhiteSpace(person.LastName))
        {
            return SourceFindings.Nothing;
        }

        SiteFindings? site;
        try
        {
            site = await crawls.GetAsync(person.Domain, cancellationToken);
        }
        catch (SiteUnresolvedException)
        {
            return SourceFindings.CouldNotCheck($"DNS did not answer for {person.Domain}");
        }

        if (site is null)
        {
            return SourceFindings.CouldNotCheck($"the website of {person.Domain} did not answer");
        }

        var emails = wanted.HasFlag(EnrichFields.Emails)
            ? EmailSightings(site, person).Select(seen => new EmailEvidence(seen.Address, Name, EmailObservation.Listed) { Provenance = Page(site, person.Domain, seen.Url) }).ToList()
            : [];
        var phones = wanted.HasFlag(EnrichFields.Phones)
            ? PhoneSightings(site, person).Select(seen => new PhoneEvidence(seen.Phone.E164, seen.Phone.Region, Name) { Provenance = Page(site, person.Domain, seen.Url) }).ToList()
            : [];
        return new SourceFindings(emails, phones);
    }

    /// <summary>The page it was read on, when the crawl was made (crawls kept before pages were recorded name the site's root).</summary>
    private static WebsiteProvenance Page(SiteFindings site, string domain, string? url) =>
        new(site.CrawledAt ?? DateTimeOffset.UnixEpoch, url ?? $"https://{domain}/");

    internal static IReadOnlyList<string> EmailsOf(SiteFindings site, Person person) => EmailSightings(site, person).Select(seen => seen.Address).ToList();

    internal static IReadOnlyList<SitePhone> PhonesOf(SiteFindings site, Person person) => PhoneSightings(site, person).Select(seen => seen.Phone).ToList();

    /// <summary>
    /// The person's addresses at the domain: in a block naming them, one built from their name, or the
    /// block's only personal address when it is built from nobody else's name; and anywhere on the site, one
    /// built from their name beside it.
    /// </summary>
    private static IReadOnlyList<(string Address, string? Url)> EmailSightings(SiteFindings site, Person person)
    {
        var names = PersonNames.Parse(person.FirstName, person.LastName);
        var othersAddresses = site.PersonalAddresses.Where(a => !NameRuns.Mentions($"{a.FirstName} {a.LastName}", person.FirstName, person.LastName))
            .Select(a => a.Address).ToHashSet(StringComparer.Ordinal);
        var found = new List<(string Address, string? Url)>();
        foreach (var block in site.Blocks.Where(b => !b.Company && NameRuns.Mentions(b.Text, person.FirstName, person.LastName)))
        {
            var personal = block.Emails.Where(a => IsPersonalAt(a, person.Domain)).ToList();
            found.AddRange(personal.Where(address =>
                AddressPatterns.Detect(LocalPart(address), names).Count > 0 || (personal.Count == 1 && !othersAddresses.Contains(address))).Select(address => (address, block.Url)));
        }

        found.AddRange(site.PersonalAddresses
            .Where(a => IsPersonalAt(a.Address, person.Domain) && NameRuns.Mentions($"{a.FirstName} {a.LastName}", person.FirstName, person.LastName))
            .Select(a => (a.Address, a.Url)));
        return found.DistinctBy(seen => seen.Address, StringComparer.Ordinal).ToList();
    }

    /// <summary>The numbers in blocks naming the person, less the company's switchboard.</summary>
    private static IReadOnlyList<(SitePhone Phone, string? Url)> PhoneSightings(SiteFindings site, Person person) =>
        site.Blocks
            .Where(b => !b.Company && NameRuns.Mentions(b.Text, person.FirstName, person.LastName))
            .SelectMany(b => b.Phones.Select(phone => (Phone: phone, b.Url)))
            .Where(seen => !site.Switchboard.Contains(seen.Phone.E164))
            .DistinctBy(seen => seen.Phone.E164)
            .ToList();

    private static bool IsPersonalAt(string address, string domain) =>
        address.EndsWith("@" + domain, StringComparison.OrdinalIgnoreCase) && !RoleAddresses.IsRole(LocalPart(address));

    private static string LocalPart(string address) => address[..address.LastIndexOf('@')];
}
