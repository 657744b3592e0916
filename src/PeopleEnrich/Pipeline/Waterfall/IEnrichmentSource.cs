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

    Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken);
}
