using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Another API speaking our contract (Tamtam's v2, another PeopleEnrich), asked for what the sources
/// before it did not find, and only for the fields it is trusted for. An upstream that fails never
/// fails the item: no answer from it is no findings (and an answer not kept in the results cache).
/// </summary>
public sealed class UpstreamSource(UpstreamOptions upstream, UpstreamBatcher batcher, ILogger<UpstreamSource> logger) : IEnrichmentSource, IDisposable
{
    public string Name => upstream.Name;

    public EnrichFields Provides => upstream.TrustedFields;

    public async Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
    {
        var asked = wanted & Provides;
        if (asked == EnrichFields.None)
        {
            return SourceFindings.Nothing;
        }

        var result = await batcher.AskAsync(UpstreamFindings.Request(person, asked), cancellationToken);
        switch (result?.Status)
        {
            case null:
                return SourceFindings.Unanswered; // the batcher said why, once for the whole batch
            case UpstreamStatus.Completed:
                return UpstreamFindings.From(result, asked, Name);
            default:
                logger.LogInformation("Upstream {Upstream} answered {Status} for a person at {Domain}: {Error}",
                    Name, ForeignText.Loggable(result.Status, upstream.ApiKey), person.Domain, ForeignText.Loggable(result.Error ?? "no reason given", upstream.ApiKey));
                return SourceFindings.Unanswered;
        }
    }

    public void Dispose() => batcher.Dispose();
}
