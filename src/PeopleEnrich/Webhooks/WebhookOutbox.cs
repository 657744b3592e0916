using System.Data.Common;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Webhooks;

/// <summary>
/// Writes a batch's enrichment.completed event in the transaction that completes it, and wakes the delivery workers once
/// that commits: this process's at once, other processes' through the database (<see cref="Channel"/>, on PostgreSQL).
/// </summary>
public sealed class WebhookOutbox : IBatchCompletion
{
    /// <summary>NOTIFYed in the transaction that adds an event.</summary>
    public const string Channel = "peopleenrich_webhooks";

    private readonly WebhookStore _store;
    private readonly Database _database;

    public WebhookOutbox(WebhookStore store, Database database, DatabaseWakeups wakeups)
    {
        _store = store;
        _database = database;
        wakeups.On(Channel, Added.Flash);
    }

    /// <summary>Flashed after a commit that added events, in this process or (on PostgreSQL) another.</summary>
    public Beacon Added { get; } = new();

    public async Task BatchCompletedAsync(DbConnection connection, DbTransaction transaction, CompletedBatch batch, CancellationToken cancellationToken)
    {
        if (await _store.AddEventAsync(connection, transaction, batch))
        {
            await _database.NotifyAsync(connection, transaction, Channel, cancellationToken);
        }
    }

    public void Committed() => Added.Flash();
}
