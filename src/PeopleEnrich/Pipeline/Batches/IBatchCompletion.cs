using System.Data.Common;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>A batch whose last item has just been settled: it left PROCESSING in the transaction that is being written.</summary>
/// <param name="WebhookUrl">The webhook_url it was submitted with, if any.</param>
public sealed record CompletedBatch(string Id, string AccountId, string? WebhookUrl, DateTimeOffset At);

/// <summary>
/// What another room does when a batch leaves PROCESSING, inside the very transaction that settles its last item
/// (an outbox: if that commit happens, so does what this writes, and a crash in between loses nothing). The
/// pipeline knows no listener; a room registers one.
/// </summary>
public interface IBatchCompletion
{
    Task BatchCompletedAsync(DbConnection connection, DbTransaction transaction, CompletedBatch batch, CancellationToken cancellationToken);

    /// <summary>After the commit that completed one or more batches (to wake whoever acts on them).</summary>
    void Committed();
}
