using PeopleEnrich.Answers;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// How to talk to one kind of provider: the shape of its API and of its answers, and nothing else.
/// What every provider needs is done around it, the same for all: batching people across workers
/// (<see cref="UpstreamBatcher"/>), pacing polls, the rate limit, retries, the circuit breaker and
/// time-outs (the <see cref="UpstreamChannel"/>'s HttpClient), keeping the key out of logs, and turning
/// answers into evidence with their provenance (<see cref="UpstreamFindings"/>).
/// </summary>
public interface IUpstreamAdapter
{
    /// <summary>
    /// The most people one submission may hold. A provider that is asked one person at a time says 1:
    /// each person's submission is then full as soon as it is asked, and leaves without waiting for the batch window.
    /// </summary>
    int MaxBatchSize { get; }

    /// <summary>Sends these people (at least one, at most <see cref="MaxBatchSize"/>) and returns the handle to their answers.</summary>
    Task<IUpstreamSubmission> SubmitAsync(IReadOnlyList<UpstreamAsk> asks, CancellationToken cancellationToken);
}

/// <summary>A submission the provider took: polled until every person in it has an answer.</summary>
public interface IUpstreamSubmission
{
    /// <summary>What the provider has answered so far. Throws an <see cref="UpstreamException"/> for an answer outside its API.</summary>
    Task<UpstreamProgress> PollAsync(CancellationToken cancellationToken);
}

/// <summary>One person, and the fields the provider is asked for (the ones still missing that it is trusted for).</summary>
public sealed record UpstreamAsk(Person Person, EnrichFields Fields);

/// <summary>
/// One poll's answers, one per person in the order submitted; null for a person the provider is still
/// working on. <see cref="StillWorking"/> is false once the provider says it is done with the submission.
/// </summary>
public sealed record UpstreamProgress(IReadOnlyList<UpstreamAnswer?> Answers, bool StillWorking);

/// <summary>
/// A submission answered while it was made, as a provider without batches to poll answers (one lookup per
/// person): its one poll gives every answer, and the batcher is done with it.
/// </summary>
public sealed class AnsweredSubmission(IReadOnlyList<UpstreamAnswer> answers) : IUpstreamSubmission
{
    public Task<UpstreamProgress> PollAsync(CancellationToken cancellationToken) => Task.FromResult(new UpstreamProgress(answers, StillWorking: false));
}

/// <summary>What a provider answered for one person, in our terms: its own shapes stay inside its adapter.</summary>
public abstract record UpstreamAnswer
{
    private UpstreamAnswer()
    {
    }

    /// <summary>What the provider reports for the person (nothing, when it knows nothing of them).</summary>
    public sealed record Reported(IReadOnlyList<ReportedEmail> Emails, IReadOnlyList<ReportedPhone> Phones) : UpstreamAnswer;

    /// <summary>The provider gave no report for the person, and said why (the contract's FAILED item and its error).</summary>
    public sealed record Declined(string Status, string? Reason) : UpstreamAnswer;

    /// <summary>
    /// The provider gave no answer at all (down, too slow, its circuit open, an answer outside its API, our key refused):
    /// said by the batcher, never by an adapter. <paramref name="Why"/> is safe to show; <paramref name="WillLast"/> when
    /// asking again soon cannot help (the provider refused our key).
    /// </summary>
    public sealed record NotGiven(string Why, bool WillLast) : UpstreamAnswer;
}

/// <summary>
/// An address as a provider reported it, unchecked: what the report is worth to our verdict, and the
/// provider's own word for it (kept in the evidence's provenance; null when it gave none).
/// </summary>
public sealed record ReportedEmail(string? Address, EmailObservation Observation, string? Status);

/// <summary>A number as a provider reported it, unchecked, with the region it gave (if any) to read a national number in.</summary>
public sealed record ReportedPhone(string? Number, string? Region);

/// <summary>
/// A provider answered something outside its API, or an error status (<paramref name="status"/>); the message is safe
/// to log once the key is blanked out.
/// </summary>
public sealed class UpstreamException(string message, int? status = null) : Exception(message)
{
    /// <summary>The provider refused our key (401, 403): asking again will not help until an operator changes it.</summary>
    public bool RefusedOurKey => status is 401 or 403;
}
