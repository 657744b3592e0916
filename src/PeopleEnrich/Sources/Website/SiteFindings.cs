using System.Text.Json.Serialization;

namespace PeopleEnrich.Sources.Website;

/// <summary>A phone number read on a page, in E.164 with its region.</summary>
public sealed record SitePhone(string E164, string Region);

/// <summary>
/// One card, table row, list item or paragraph of a page that holds addresses or numbers, with the
/// names written in it. <see cref="Text"/> is the block's text (whitespace folded), where a person's
/// name is looked for. A company block is one beside no person: a header, footer or navigation, a
/// block with no name in it, or one labelled as the switchboard.
/// </summary>
public sealed record ContactBlock(string Text, IReadOnlyList<string> Names, IReadOnlyList<string> Emails, IReadOnlyList<SitePhone> Phones, bool Company)
{
    /// <summary>The page it is on (null in crawls kept before pages were recorded).</summary>
    public string? Url { get; init; }
}

/// <summary>An address whose local part is built from a name written on the same page (jane.doe beside "Jane Doe").</summary>
public sealed record PersonalAddress(string Address, string FirstName, string LastName)
{
    /// <summary>The page it is on (null in crawls kept before pages were recorded).</summary>
    public string? Url { get; init; }
}

/// <summary>What one crawl of a domain's site found, person by person to be read later; kept with the domain's knowledge.</summary>
public sealed record SiteFindings(IReadOnlyList<ContactBlock> Blocks, IReadOnlyList<PersonalAddress> PersonalAddresses, IReadOnlyList<string> Switchboard)
{
    /// <summary>When the crawl was made: when what it found was seen.</summary>
    public DateTimeOffset? CrawledAt { get; init; }

    public static SiteFindings Nothing { get; } = new([], [], []);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SiteFindings))]
internal sealed partial class WebsiteJsonContext : JsonSerializerContext;
