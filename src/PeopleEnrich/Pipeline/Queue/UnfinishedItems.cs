using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Privacy;

namespace PeopleEnrich.Pipeline.Queue;

/// <summary>An erased person's items still on the queue: those no worker holds end at once, answered "erased".</summary>
public sealed class UnfinishedItems(StoredAnswersPersonalData storedAnswers, ItemQueue queue) : IUnfinishedWork
{
    public async Task<int> FinishUnheldAsync(ErasureSubject subject, CancellationToken cancellationToken) =>
        await queue.FinishUnheldAsync(
            await storedAnswers.ItemsAboutAsync(subject, cancellationToken), StoredAnswersPersonalData.ErasedAnswer, StoredAnswersPersonalData.Erased, cancellationToken);
}
