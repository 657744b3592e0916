using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Npgsql;
using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Pipeline.Uploads;

/// <summary>A row of an upload that was not sent, and why.</summary>
public sealed record SkippedUploadRow(int Row, string Reason);

/// <summary>
/// What to store of an upload: the file as sent (so that its enriched copy keeps every column and row), how its
/// columns were read (opaque here), the fields asked, its batches of people in order, and which data row each person
/// came from (<see cref="SentRows"/>, in the batches' order), the rest skipped with their reasons.
/// </summary>
public sealed record NewUpload(
    string FileName,
    byte[] Content,
    string ColumnsJson,
    EnrichFields Fields,
    int RowCount,
    IReadOnlyList<IReadOnlyList<SubmittedItem>> Batches,
    IReadOnlyList<int> SentRows,
    IReadOnlyList<SkippedUploadRow> Skipped);

/// <summary>An upload as read back for its owner.</summary>
public sealed record StoredUpload(
    string Id,
    string AccountId,
    string FileName,
    byte[] Content,
    string ColumnsJson,
    EnrichFields Fields,
    int RowCount,
    int ItemCount,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> BatchIds,
    IReadOnlyList<int> SentRows,
    IReadOnlyList<SkippedUploadRow> Skipped)
{
    public const int BatchSize = 100;

    /// <summary>Where the person of data row <paramref name="row"/> went: its batch and its place there; null when it was skipped.</summary>
    public (string BatchId, int Index)? ItemOf(int row)
    {
        var position = _positions.Value.TryGetValue(row, out var p) ? p : -1;
        return position < 0 ? null : (BatchIds[position / BatchSize], position % BatchSize);
    }

    private readonly Lazy<Dictionary<int, int>> _positions = new(() => SentRows.Select((row, position) => (row, position)).ToDictionary(p => p.row, p => p.position));
}

public abstract record UploadResult
{
    public sealed record Accepted(StoredUpload Upload, bool Replayed) : UploadResult;

    public sealed record InsufficientCredits(long Required, long Remaining) : UploadResult;

    public sealed record IdempotencyKeyReused : UploadResult;
}

/// <summary>
/// Stores an upload and all its batches in one transaction, each batch accepted exactly as a POST's
/// (<see cref="BatchStore.SubmitWithinAsync"/>): either the whole file is reserved and queued, or nothing is.
/// </summary>
public sealed class UploadStore(Database database, BatchStore batches, TimeProvider time)
{
    public async Task<UploadResult> SubmitAsync(string accountId, NewUpload upload, IdempotencyClaim? idempotency, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await database.InTransactionAsync((connection, transaction) => SubmitInTransactionAsync(connection, transaction, accountId, upload, idempotency, cancellationToken), cancellationToken);
            }
            catch (NotEnoughCredits)
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                return new UploadResult.InsufficientCredits(upload.Batches.Sum(b => b.Sum(i => i.ReservedCredits)), await CreditLedger.RemainingAsync(connection, null, accountId, cancellationToken));
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation && idempotency is not null && attempt < 3)
            {
                // Two first uses of one key raced; the second time round finds the winner's upload.
            }
        }
    }

    private async Task<UploadResult> SubmitInTransactionAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string accountId, NewUpload upload, IdempotencyClaim? idempotency, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (idempotency is not null)
        {
            var previous = await connection.QuerySingleOrDefaultAsync<UploadRow>(new CommandDefinition(
                $"SELECT {Columns} FROM csv_uploads WHERE account_id = @accountId AND idempotency_key = @key",
                new { accountId, key = idempotency.Key }, transaction, cancellationToken: cancellationToken));
            if (previous is not null && previous.CreatedAt > (now - BatchStore.IdempotencyWindow).ToUnixTimeMilliseconds())
            {
                return CryptographicOperations.FixedTimeEquals(previous.BodyHash ?? [], idempotency.BodyHash)
                    ? new UploadResult.Accepted(previous.ToUpload(), Replayed: true)
                    : new UploadResult.IdempotencyKeyReused();
            }

            if (previous is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE csv_uploads SET idempotency_key = NULL WHERE id = @id", new { id = previous.Id }, transaction, cancellationToken: cancellationToken));
            }
        }

        var batchIds = new List<string>();
        foreach (var items in upload.Batches)
        {
            switch (await batches.SubmitWithinAsync(connection, transaction, accountId, items, cancellationToken))
            {
                case SubmitResult.Accepted accepted:
                    batchIds.Add(accepted.BatchId);
                    break;
                default:
                    // Leaving by an exception rolls back the batches already written: an upload is reserved whole or not at all.
                    throw new NotEnoughCredits();
            }
        }

        var stored = new StoredUpload(
            Guid.CreateVersion7().ToString(), accountId, upload.FileName, upload.Content, upload.ColumnsJson, upload.Fields, upload.RowCount,
            upload.SentRows.Count, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()), batchIds, upload.SentRows, upload.Skipped);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO csv_uploads (id, account_id, file_name, content, columns_json, fields, row_count, item_count,
                                     batch_ids_json, sent_rows_json, skipped_json, created_at, idempotency_key, body_hash)
            VALUES (@Id, @accountId, @FileName, @Content, @ColumnsJson, @fields, @RowCount, @ItemCount,
                    @batchIds, @sentRows, @skipped, @createdAt, @key, @hash)
            """, new
        {
            stored.Id, accountId, stored.FileName, stored.Content, stored.ColumnsJson, fields = (int)stored.Fields, stored.RowCount, stored.ItemCount,
            batchIds = JsonSerializer.Serialize(batchIds, UploadJsonContext.Default.IReadOnlyListString),
            sentRows = JsonSerializer.Serialize(upload.SentRows, UploadJsonContext.Default.IReadOnlyListInt32),
            skipped = JsonSerializer.Serialize(upload.Skipped, UploadJsonContext.Default.IReadOnlyListSkippedUploadRow),
            createdAt = now.ToUnixTimeMilliseconds(), key = idempotency?.Key, hash = idempotency?.BodyHash,
        }, transaction, cancellationToken: cancellationToken));
        return new UploadResult.Accepted(stored, Replayed: false);
    }

    /// <summary>The upload if <paramref name="accountId"/> made it; for anyone else it does not exist.</summary>
    public async Task<StoredUpload?> FindAsync(string accountId, string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<UploadRow>(new CommandDefinition(
            $"SELECT {Columns} FROM csv_uploads WHERE id = @uploadId AND account_id = @accountId", new { uploadId, accountId }, cancellationToken: cancellationToken));
        return row?.ToUpload();
    }

    /// <summary>How many of the upload's items have left PROCESSING, one query for all its batches.</summary>
    public async Task<long> DoneCountAsync(StoredUpload upload, CancellationToken cancellationToken)
    {
        if (upload.BatchIds.Count == 0)
        {
            return 0;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM items WHERE batch_id {database.InAny("ids")} AND status <> @processing",
            new { ids = upload.BatchIds.ToArray(), processing = ItemStatus.Processing }, cancellationToken: cancellationToken));
    }

    private const string Columns = "id, account_id, file_name, content, columns_json, fields, row_count, item_count, batch_ids_json, sent_rows_json, skipped_json, created_at, body_hash";

    private sealed class NotEnoughCredits : Exception;

    private sealed class UploadRow
    {
        public string Id { get; init; } = "";
        public string AccountId { get; init; } = "";
        public string FileName { get; init; } = "";
        public byte[] Content { get; init; } = [];
        public string ColumnsJson { get; init; } = "";
        public long Fields { get; init; }
        public long RowCount { get; init; }
        public long ItemCount { get; init; }
        public string BatchIdsJson { get; init; } = "[]";
        public string SentRowsJson { get; init; } = "[]";
        public string SkippedJson { get; init; } = "[]";
        public long CreatedAt { get; init; }
        public byte[]? BodyHash { get; init; }

        public StoredUpload ToUpload() => new(
            Id, AccountId, FileName, Content, ColumnsJson, (EnrichFields)Fields, (int)RowCount, (int)ItemCount, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            JsonSerializer.Deserialize(BatchIdsJson, UploadJsonContext.Default.IReadOnlyListString) ?? [],
            JsonSerializer.Deserialize(SentRowsJson, UploadJsonContext.Default.IReadOnlyListInt32) ?? [],
            JsonSerializer.Deserialize(SkippedJson, UploadJsonContext.Default.IReadOnlyListSkippedUploadRow) ?? []);
    }
}

[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IReadOnlyList<int>))]
[JsonSerializable(typeof(IReadOnlyList<SkippedUploadRow>))]
internal sealed partial class UploadJsonContext : JsonSerializerContext;
