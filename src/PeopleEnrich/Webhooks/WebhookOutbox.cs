using System.Data.Common;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Workers;

namespace PeopleEnrich.Webhooks;

/// <summary>
/// Writes a batch's enrichment.completed event in the transaction that completes it, and wakes this process's delivery
/// workers once that commits (others find it by polling).
/// </summary>
public sealed class WebhookOutbox(WebhookStore store) : IBatchCompletion
{
    /// <summary>Flashed after a commit that added events.</summary>
    public Beacon Added { get; } = new();

    public Task BatchCompletedAsync(DbConnection connection, DbTransaction transaction, CompletedBatch batch, CancellationToken cancellationToken) =>
        store.AddEventAsync(connection, transaction, batch);

    public void Committed() => Added.Flash();
}
