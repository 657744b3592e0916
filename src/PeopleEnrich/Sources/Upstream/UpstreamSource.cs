using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Another API of people (one speaking our contract, Tamtam's v2, another PeopleEnrich, or any provider
/// with an adapter), asked for what the sources before it did not find, and only for the fields it is
/// trusted for. An upstream that gives no answer never reads as "nothing found": it is a gap the waterfall
/// names in the item's error (after asking again, when that may help), and the answer is not kept in the results cache.
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
        switch (reply.Answer)
        {
            case UpstreamAnswer.Reported report:
                return UpstreamFindings.From(report, asked, upstream, reply.ReceivedAt);
            case UpstreamAnswer.Declined declined:
                var status = ForeignText.Loggable(declined.Status, upstream.ApiKey);
                var reason = ForeignText.Loggable(declined.Reason ?? "no reason given", upstream.ApiKey);
                logger.LogInformation("Upstream {Upstream} answered {Status} for a person at {Domain}: {Error}", Name, status, person.Domain, reason);
                // Its own answer for this person: asking again soon would get the same.
                return SourceFindings.CouldNotCheck($"the upstream provider {Name} answered {status} ({reason})", retryable: false);
            case UpstreamAnswer.NotGiven { WillLast: true }:
                // The batcher logged the provider's own words; the person who asked needs only the fact.
                return SourceFindings.CouldNotCheck($"the upstream provider {Name} refused our key", retryable: false);
            case UpstreamAnswer.NotGiven silence:
                return SourceFindings.CouldNotCheck($"the upstream provider {Name} did not answer: {silence.Why}");
            default:
                throw new InvalidOperationException($"An answer of a kind the upstream source does not know: {reply.Answer.GetType().Name}");
        }
    }

    public void Dispose() => batcher.Dispose();
}
