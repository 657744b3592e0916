using PeopleEnrich.Answers;
using PeopleEnrich.Vocabulary;
namespace PeopleEnrich.Pipeline.Waterfall;

/// <summary>
/// One place to look for a person. Sources are registered in waterfall order
/// (<c>services.AddEnrichmentSource&lt;T&gt;()</c>) and asked only for the fields still missing.
/// A source throws when it could not look (an outage, a time-out); finding nothing is an empty result.
/// </summary>
public interface IEnrichmentSource
{
    string Name { get; }

    EnrichFields Provides { get; }

    /// <summary>
    /// True for a source that bounds its own work, step by step, and so is not cut off by the waterfall's
    /// <see cref="WaterfallOptions.SourceTimeout"/>: the email finder, whose person may wait in their domain's
    /// SMTP lane behind others, which is not the source's time. Such a source must still end: every step it
    /// takes has a time-out of its own, and the worker's lease bounds the whole item.
    /// </summary>
    bool BoundsItsOwnTime => false;

    Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken);
}
