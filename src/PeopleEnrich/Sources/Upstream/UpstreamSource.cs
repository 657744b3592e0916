using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Another API of people (one speaking our contract, Tamtam's v2, another PeopleEnrich, or any provider
/// with an adapter), asked for what the sources before it did not find, and only for the fields it is
/// trusted for. An upstream that fails never fails the item: no answer from it is no findings (and an
/// answer not kept in the results cache).
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

        var reply = await batcher.AskAsync(new UpstreamAsk(person, asked), cancellationToken);
        switch (reply?.Answer)
        {
            case UpstreamAnswer.Reported report:
                return UpstreamFindings.From(report, asked, upstream, reply.ReceivedAt);
            case UpstreamAnswer.Declined declined:
                logger.LogInformation("Upstream {Upstream} answered {Status} for a person at {Domain}: {Error}",
                    Name, ForeignText.Loggable(declined.Status, upstream.ApiKey), person.Domain, ForeignText.Loggable(declined.Reason ?? "no reason given", upstream.ApiKey));
                return SourceFindings.Unanswered;
            default:
                return SourceFindings.Unanswered; // no answer: the batcher said why, once for the whole batch
        }
    }

    public void Dispose() => batcher.Dispose();
}
