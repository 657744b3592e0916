using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using PeopleEnrich.Normalisation;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Website;

/// <summary>A link of a page, absolute, with its text.</summary>
public sealed record PageLink(Uri Url, string Text);

/// <summary>What one page holds: its links, its blocks with addresses or numbers, and the addresses built from names on it.</summary>
public sealed record PageContent(IReadOnlyList<PageLink> Links, IReadOnlyList<ContactBlock> Blocks, IReadOnlyList<PersonalAddress> PersonalAddresses, string? Region);

/// <summary>
/// Reads a page with a real HTML parser (AngleSharp) into addresses, numbers and the names beside them.
/// Each address or number belongs to its block: the card, table row, list item or paragraph around it,
/// found by walking up from it and stopping at containers of many records (lists, tables, the page's
/// header, footer and navigation).
/// </summary>
public static partial class PageReader
{
    // Longer than this, an element holds more than one person's card.
    private const int MaxBlockLength = 600;

    // A card's contact details sit a few levels below it; further up are only containers.
    private const int MaxBlockDepth = 8;

    // Addresses and numbers read per page at most: a page of thousands is a directory dump, not a team page.
    private const int MaxSightings = 2000;

    private static readonly HashSet<string> Containers = new(StringComparer.Ordinal)
    {
        "body", "html", "main", "header", "footer", "nav", "aside", "form", "table", "thead", "tbody", "tfoot", "ul", "ol", "dl",
    };

    private static readonly HashSet<string> Records = new(StringComparer.Ordinal) { "li", "tr", "article", "figure", "address", "blockquote" };

    private static readonly HashSet<string> Chrome = new(StringComparer.Ordinal) { "header", "footer", "nav" };

    private static readonly HashSet<string> LineBreaking = new(StringComparer.Ordinal)
    {
        "p", "div", "section", "article", "aside", "header", "footer", "nav", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th",
        "table", "h1", "h2", "h3", "h4", "h5", "h6", "br", "address", "figure", "figcaption", "blockquote", "pre", "hr", "main",
    };

    private static readonly string[] CardHints =
    [
        "card", "member", "person", "people", "profile", "staff", "employee", "vcard", "h-card", "team", "bio", "author",
        "contact-person", "ansprechpartner", "mitarbeiter", "equipe",
    ];

    private static readonly string[] SwitchboardLabels =
    [
        "switchboard", "standard", "zentrale", "centralino", "centralita", "main line", "main number", "main office", "head office",
        "headquarters", "reception", "empfang", "accueil", "siege", "hauptsitz", "hotline",
    ];

    // Country-code TLDs sold as generic names: a .io or .ai site says nothing of its country.
    private static readonly HashSet<string> VanityTlds = new(StringComparer.OrdinalIgnoreCase) { "io", "ai", "co", "me", "tv", "fm", "ly", "gg", "cc", "ws", "to", "so" };

    // Languages spoken mostly in one country: the region of a page that says only its language. English
    // is read as American: British, Irish or Australian companies mostly write under their own
    // country's domain, which comes first.
    private static readonly Dictionary<string, string> LanguageRegions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "US",
        ["de"] = "DE", ["fr"] = "FR", ["it"] = "IT", ["es"] = "ES", ["nl"] = "NL", ["pl"] = "PL", ["pt"] = "PT", ["sv"] = "SE",
        ["da"] = "DK", ["fi"] = "FI", ["nb"] = "NO", ["no"] = "NO", ["cs"] = "CZ", ["ja"] = "JP", ["el"] = "GR", ["hu"] = "HU",
    };

    /// <summary>
    /// Reads an HTML page. The parser's time grows with the square of the nesting depth (100,000 nested
    /// divs fit in 1 MiB and take minutes), so the caller bounds it with <paramref name="cancellationToken"/>.
    /// </summary>
    public static async Task<PageContent> ReadHtmlAsync(string html, Uri url, string domain, CancellationToken cancellationToken)
    {
        var document = await new HtmlParser().ParseDocumentAsync(html, cancellationToken);
        return Read(document, url, domain);
    }

    /// <summary>A text/plain page: each paragraph (lines up to a blank one) is a block.</summary>
    public static Task<PageContent> ReadPlainTextAsync(string text, Uri url, string domain, CancellationToken cancellationToken)
    {
        var html = new StringBuilder("<html><body>");
        foreach (var paragraph in BlankLines().Split(text.Replace("\r", "", StringComparison.Ordinal)))
        {
            html.Append("<p>").Append(WebUtility.HtmlEncode(paragraph).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        }

        return ReadHtmlAsync(html.Append("</body></html>").ToString(), url, domain, cancellationToken);
    }

    private static PageContent Read(IDocument document, Uri url, string domain)
    {
        foreach (var hidden in document.QuerySelectorAll("script, style, noscript, template").ToList())
        {
            hidden.Remove();
        }

        RevealCloudflareAddresses(document);
        var body = document.Body;
        if (body is null)
        {
            return new PageContent([], [], [], null);
        }

        var region = RegionOf(domain, document, body);
        var sightings = new List<Sighting>();
        foreach (var link in body.QuerySelectorAll("a[href]"))
        {
            var href = link.GetAttribute("href") ?? "";
            sightings.AddRange(EmailText.FromMailto(href).Select(address => new Sighting(link, address, null, null)));
            if (PhoneText.FromTel(href, region) is { } phone)
            {
                sightings.Add(new Sighting(link, null, phone, LabelBefore(link, "")));
            }
        }

        foreach (var text in body.Descendants<IText>())
        {
            if (text.ParentElement is not { } parent || text.Data.Length == 0)
            {
                continue;
            }

            sightings.AddRange(EmailText.Find(text.Data).Select(address => new Sighting(parent, address, null, null)));
            var previousEnd = 0;
            foreach (var match in PhoneText.Find(text.Data, region))
            {
                sightings.Add(new Sighting(parent, null, match.Phone, LabelBefore(text, text.Data[previousEnd..match.Start])));
                previousEnd = match.End;
            }
        }

        var lengths = TextLengths(body);
        var blocks = Blocks(sightings.Take(MaxSightings), element => BlockOf(element, lengths));
        return new PageContent(Links(body, url), blocks, PersonalAddresses(blocks, body, domain), region);
    }

    private static List<ContactBlock> Blocks(IEnumerable<Sighting> sightings, Func<IElement, IElement?> blockOf)
    {
        var blocks = new List<ContactBlock>();
        var company = new List<Sighting>();
        foreach (var group in sightings.GroupBy(s => blockOf(s.Element)))
        {
            if (group.Key is not { } element || IsChrome(element))
            {
                company.AddRange(group);
                continue;
            }

            var text = TextOf(element);
            var names = NameRuns.Find(text);
            // A number labelled as the switchboard is the company's even inside a card.
            var labelled = group.Where(s => s.Phone is not null && IsSwitchboardLabel(s.Label)).ToList();
            company.AddRange(labelled);
            var own = group.Except(labelled).ToList();
            if (own.Count > 0)
            {
                blocks.Add(Block(text, names, own, company: names.Count == 0));
            }
        }

        if (company.Count > 0)
        {
            blocks.Add(Block("", [], company, company: true));
        }

        return blocks;
    }

    private static ContactBlock Block(string text, IReadOnlyList<string> names, IEnumerable<Sighting> sightings, bool company)
    {
        var list = sightings.ToList();
        return new ContactBlock(text, names,
            list.Where(s => s.Email is not null).Select(s => s.Email!).Distinct().ToList(),
            list.Where(s => s.Phone is not null).Select(s => s.Phone!).DistinctBy(p => p.E164).ToList(),
            company);
    }

    /// <summary>
    /// The card, row, list item or paragraph an address or number belongs to: the nearest record element
    /// (li, tr, article…) or element marked as a card (class "member", "vcard"…), a paragraph naming
    /// someone, or a div or section in which a name stands as an element of its own (a card's heading).
    /// Null when only a container of many records (a list, the page, its footer) holds it.
    /// </summary>
    private static IElement? BlockOf(IElement element, IReadOnlyDictionary<INode, int> lengths)
    {
        IElement? paragraph = null;
        var depth = 0;
        for (var current = element; current is not null && depth++ < MaxBlockDepth; current = current.ParentElement)
        {
            var tag = current.LocalName;
            if (Containers.Contains(tag) || lengths.GetValueOrDefault(current) > MaxBlockLength)
            {
                break;
            }

            if (Records.Contains(tag) || IsCardHinted(current))
            {
                return current;
            }

            if (tag == "p")
            {
                if (NameRuns.Find(TextOf(current)).Count > 0)
                {
                    return current;
                }

                paragraph ??= current;
            }
            else if (tag is "div" or "section" && HasNameOfItsOwn(current))
            {
                return current;
            }
        }

        return paragraph;
    }

    /// <summary>The length of every element's text, whitespace folded, computed once for the page (not once per ancestor per sighting).</summary>
    private static Dictionary<INode, int> TextLengths(IElement root)
    {
        // Iterative: a hostile page may nest elements deeper than the stack would go.
        var lengths = new Dictionary<INode, int>();
        var stack = new Stack<(INode Node, bool Done)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (node, done) = stack.Pop();
            if (node is IText text)
            {
                lengths[node] = Fold(text.Data).Length;
            }
            else if (done)
            {
                lengths[node] = node.ChildNodes.Sum(child => lengths.GetValueOrDefault(child));
            }
            else
            {
                stack.Push((node, true));
                foreach (var child in node.ChildNodes)
                {
                    stack.Push((child, false));
                }
            }
        }

        return lengths;
    }

    private static bool HasNameOfItsOwn(IElement element) =>
        element.Descendants<IElement>().Any(child =>
        {
            var text = Fold(child.TextContent).Trim(' ', ',', ';', ':', '-', '–', '|');
            return text.Length is > 0 and <= 60 && NameRuns.Find(text) is [var name] && name.Length >= text.Length - 1;
        });

    private static bool IsCardHinted(IElement element)
    {
        var marks = $"{element.ClassName} {element.Id} {element.GetAttribute("itemtype")}".ToLowerInvariant();
        return marks.Contains("schema.org/person", StringComparison.Ordinal) || CardHints.Any(hint => marks.Contains(hint, StringComparison.Ordinal));
    }

    private static bool IsChrome(IElement element)
    {
        for (var current = element; current is not null; current = current.ParentElement)
        {
            if (Chrome.Contains(current.LocalName) || current.GetAttribute("role") is "banner" or "contentinfo" or "navigation")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The words just before a number ("Zentrale: ", "Mobile : "): the text before it in its own node, after
    /// what precedes that node in its element, and only since the previous number (whose label it is not).
    /// </summary>
    private static string LabelBefore(INode node, string before)
    {
        var text = new StringBuilder(before);
        for (var sibling = node.PreviousSibling; sibling is not null && text.Length < 60; sibling = sibling.PreviousSibling)
        {
            text.Insert(0, sibling.TextContent);
        }

        var label = text.ToString();
        label = label[(label.LastIndexOfAny("0123456789".ToCharArray()) + 1)..];
        return label.Length > 40 ? label[^40..] : label;
    }

    private static bool IsSwitchboardLabel(string? label)
    {
        var text = MatchKeys.Name(label ?? "");
        return SwitchboardLabels.Any(word => text.Contains(word, StringComparison.Ordinal));
    }

    /// <summary>
    /// Addresses of the domain whose local part is built from a name written beside them, else anywhere
    /// on the page: jane.doe@ beside "Jane Doe". Role addresses (info@) are nobody's.
    /// </summary>
    private static List<PersonalAddress> PersonalAddresses(IReadOnlyList<ContactBlock> blocks, IElement body, string domain)
    {
        var pageNames = NameRuns.Find(TextOf(body));
        var found = new List<PersonalAddress>();
        foreach (var block in blocks)
        {
            foreach (var address in block.Emails.Where(a => a.EndsWith("@" + domain, StringComparison.Ordinal)))
            {
                var local = address[..address.LastIndexOf('@')];
                if (RoleAddresses.IsRole(local) || found.Any(f => f.Address == address))
                {
                    continue;
                }

                var owner = block.Names.Concat(pageNames)
                    .SelectMany(NameRuns.Splits)
                    .FirstOrDefault(name => AddressPatterns.Detect(local, PersonNames.Parse(name.First, name.Last)).Count > 0);
                if (owner.First is not null)
                {
                    found.Add(new PersonalAddress(address, owner.First, owner.Last));
                }
            }
        }

        return found;
    }

    private static List<PageLink> Links(IElement body, Uri url)
    {
        var links = new List<PageLink>();
        foreach (var anchor in body.QuerySelectorAll("a[href]"))
        {
            if (Uri.TryCreate(url, anchor.GetAttribute("href")?.Trim(), out var target) && target.Scheme is "http" or "https")
            {
                links.Add(new PageLink(new UriBuilder(target) { Fragment = "" }.Uri, Fold(anchor.TextContent)));
            }
        }

        return links;
    }

    /// <summary>
    /// The region national numbers are read in: the country-code TLD's, else the page's hints, else, on a
    /// generic domain (.com, .org, a vanity .io), the United States. That last guess cannot turn another
    /// country's national number into a wrong one: those start with a trunk 0, which no US number does.
    /// </summary>
    private static string? RegionOf(string domain, IDocument document, IElement body)
    {
        var tld = domain[(domain.LastIndexOf('.') + 1)..];
        var generic = tld.Length != 2 || VanityTlds.Contains(tld);
        return (generic ? null : PhoneNumberParser.RegionOfDomain(domain)) ?? RegionHint(document, body) ?? (generic ? "US" : null);
    }

    /// <summary>The page's country: its language tag's region (fr-FR, og:locale fr_FR), else the country of the numbers it writes with a country code, else its language's country.</summary>
    private static string? RegionHint(IDocument document, IElement body)
    {
        var tags = new[]
        {
            document.DocumentElement.GetAttribute("lang"),
            document.QuerySelector("meta[property='og:locale']")?.GetAttribute("content"),
            document.QuerySelector("meta[http-equiv='content-language' i]")?.GetAttribute("content"),
        }.Where(tag => !string.IsNullOrWhiteSpace(tag)).Select(tag => tag!.Trim().Replace('_', '-').Split(',')[0]).ToList();
        var region = tags.Select(tag => tag.Split('-')).Where(parts => parts.Length >= 2 && parts[1].Length == 2)
            .Select(parts => parts[1].ToUpperInvariant()).FirstOrDefault(PhoneNumberParser.IsRegion);
        return region
               ?? PhoneText.RegionOfInternational(TextOf(body))
               ?? tags.Select(tag => LanguageRegions.GetValueOrDefault(tag.Split('-')[0])).FirstOrDefault(r => r is not null);
    }

    /// <summary>
    /// The replacement Cloudflare's script would make: the address behind a data-cfemail element or an
    /// /cdn-cgi/l/email-protection#… link, put back where a reader of the page sees it.
    /// </summary>
    private static void RevealCloudflareAddresses(IDocument document)
    {
        foreach (var element in document.QuerySelectorAll("[data-cfemail]"))
        {
            if (EmailText.DecodeCloudflare(element.GetAttribute("data-cfemail") ?? "") is { } address)
            {
                element.TextContent = address;
            }
        }

        foreach (var link in document.QuerySelectorAll("a[href*='/cdn-cgi/l/email-protection']"))
        {
            var href = link.GetAttribute("href") ?? "";
            var hash = href.IndexOf('#');
            if (hash >= 0 && EmailText.DecodeCloudflare(href[(hash + 1)..]) is { } address)
            {
                link.SetAttribute("href", "mailto:" + address);
            }
        }
    }

    /// <summary>An element's text as read: block-level elements and &lt;br&gt; start new lines, so that names never run across them.</summary>
    internal static string TextOf(INode node)
    {
        var text = new StringBuilder();
        var stack = new Stack<(INode Node, bool Closing)>();
        stack.Push((node, false));
        while (stack.Count > 0)
        {
            var (current, closing) = stack.Pop();
            if (current is IText textNode)
            {
                // Line breaks in the source are spaces to a reader; only elements make lines.
                text.Append(Whitespace().Replace(textNode.Data, " "));
                continue;
            }

            var breaks = current is IElement element && LineBreaking.Contains(element.LocalName);
            if (breaks)
            {
                text.Append('\n');
            }

            if (closing)
            {
                continue;
            }

            stack.Push((current, true));
            for (var i = current.ChildNodes.Length - 1; i >= 0; i--)
            {
                stack.Push((current.ChildNodes[i], false));
            }
        }

        return string.Join('\n', text.ToString().Split('\n').Select(Fold).Where(line => line.Length > 0));
    }

    private static string Fold(string text) => Whitespace().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex BlankLines();

    private sealed record Sighting(IElement Element, string? Email, SitePhone? Phone, string? Label);
}
