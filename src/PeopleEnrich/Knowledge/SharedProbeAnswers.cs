using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Knowledge;

/// <summary>The domain's catch-all probe's answer, kept with the domain's facts (<c>domain_knowledge.catch_all</c>) where every process reads it.</summary>
public sealed class SharedProbeAnswers(DomainKnowledge knowledge) : IProbeMemory
{
    public async Task<RcptObservation?> AnsweredAsync(string domain, string probe, CancellationToken cancellationToken)
    {
        var facts = await knowledge.GetCatchAllAsync(domain, cancellationToken);
        return facts is { CatchAll: { } catchAll, CatchAllSeen: { } seen } && SmtpReply.TryParse(seen.Reply, out var reply)
            ? new RcptObservation(probe, catchAll ? RcptOutcome.Accepted : RcptOutcome.Rejected, reply, seen.MxHost, seen.At)
            : null;
    }

    public Task RememberAsync(string domain, RcptObservation answer, CancellationToken cancellationToken) =>
        knowledge.RecordCatchAllAsync(domain, answer.Outcome == RcptOutcome.Accepted, answer.Host, answer.Reply.ToCustomerString(), cancellationToken);
}
