using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>One validated, normalised person of a submitted batch.</summary>
public sealed record SubmittedItem(Person Person, EnrichFields Fields, IReadOnlyDictionary<string, string>? Custom)
{
    public long ReservedCredits => CreditPrices.For(Fields);
}

/// <summary>An Idempotency-Key and a hash of the body it came with.</summary>
public sealed record IdempotencyClaim(string Key, byte[] BodyHash);

public abstract record SubmitResult
{
    public sealed record Accepted(string BatchId, int ItemCount, bool Replayed) : SubmitResult;

    public sealed record InsufficientCredits(long Required, long Remaining) : SubmitResult;

    public sealed record IdempotencyKeyReused : SubmitResult;
}

public static class ItemStatus
{
    public const string Processing = "PROCESSING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";

    /// <summary>The contract's aggregate: PROCESSING while any item is, FAILED when all did, else COMPLETED.</summary>
    public static string Aggregate(IReadOnlyCollection<string> statuses) =>
        statuses.Any(s => s == Processing) ? Processing
        : statuses.Count > 0 && statuses.All(s => s == Failed) ? Failed
        : Completed;
}

/// <summary>An item as read back for its owner: the person as submitted, its answer once COMPLETED, its error once FAILED.</summary>
public sealed record StoredItem(int Index, EnrichFields Fields, string Status, IReadOnlyDictionary<string, string>? Custom, EnrichmentOutcome? Answer, string? Error, Person Person);

public sealed record StoredBatch(string Id, IReadOnlyList<StoredItem> Items)
{
    public string Status => ItemStatus.Aggregate(Items.Select(i => i.Status).ToList());
}
