using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Storage;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Batches;

/// <summary>
/// Stores a batch, its items and its credit reservation in one transaction, and reads a batch back
/// for its owner only.
/// </summary>
public sealed class BatchStore(Database database, TimeProvider time)
{
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    // Batches whose trace the workers of this process continue; a batch's items are claimed close together.
    private const int RememberedTraces = 1024;
    private readonly ConcurrentDictionary<string, string?> _traceParents = new(StringComparer.Ordinal);

    /// <param name="webhookUrl">Where the batch's completion is posted (an extension), already checked; null for the account's default.</param>
    public async Task<SubmitResult> SubmitAsync(string accountId, IReadOnlyList<SubmittedItem> items, IdempotencyClaim? idempotency, string? webhookUrl,
        CancellationToken cancellationToken)
    {
        // Two first uses of one Idempotency-Key can race on PostgreSQL; the loser's unique violation
        // sends it round again, and the second time it finds the winner's batch.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await database.InTransactionAsync(
                    (connection, transaction) => SubmitInTransactionAsync(connection, transaction, accountId, items, idempotency, webhookUrl, cancellationToken),
                    cancellationToken);
                // The winner may also have taken the credits the loser needed, so the loser's reservation
                // fails instead; it waited for the winner's commit, so looking again finds the winner's batch.
                if (result is SubmitResult.InsufficientCredits && idempotency is not null && attempt == 1)
                {
                    continue;
                }

                return result;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation && idempotency is not null && attempt < 3)
            {
            }
        }
    }

    /// <summary>
    /// Accepts a batch inside a transaction of the caller's, which stores more with it (an upload's batches and the
    /// upload itself): the same reservation and rows as a POST's.
    /// </summary>
    public Task<SubmitResult> SubmitWithinAsync(DbConnection connection, DbTransaction transaction, string accountId, IReadOnlyList<SubmittedItem> items, CancellationToken cancellationToken) =>
        SubmitInTransactionAsync(connection, transaction, accountId, items, idempotency: null, webhookUrl: null, cancellationToken);

    private async Task<SubmitResult> SubmitInTransactionAsync(
        DbConnection connection, DbTransaction transaction, string accountId, IReadOnlyList<SubmittedItem> items, IdempotencyClaim? idempotency, string? webhookUrl,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (idempotency is not null)
        {
            var previous = await connection.QuerySingleOrDefaultAsync<PreviousBatch>(new CommandDefinition(
                "SELECT id, item_count, body_hash, created_at FROM batches WHERE account_id = @accountId AND idempotency_key = @key",
                new { accountId, key = idempotency.Key }, transaction, cancellationToken: cancellationToken));
            if (previous is not null && previous.CreatedAt > now - (long)IdempotencyWindow.TotalMilliseconds)
            {
                return CryptographicOperations.FixedTimeEquals(previous.BodyHash, idempotency.BodyHash)
                    ? new SubmitResult.Accepted(previous.Id, (int)previous.ItemCount, Replayed: true)
                    : new SubmitResult.IdempotencyKeyReused();
            }

            if (previous is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE batches SET idempotency_key = NULL WHERE id = @id", new { id = previous.Id }, transaction, cancellationToken: cancellationToken));
            }
        }

        var required = items.Sum(i => i.ReservedCredits);
        if (!await CreditLedger.TryReserveAsync(connection, transaction, accountId, required, cancellationToken))
        {
            return new SubmitResult.InsufficientCredits(required, await CreditLedger.RemainingAsync(connection, transaction, accountId, cancellationToken));
        }

        var batchId = Guid.CreateVersion7().ToString();
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO batches (id, account_id, item_count, created_at, idempotency_key, body_hash, trace_parent, webhook_url)
            VALUES (@batchId, @accountId, @count, @now, @key, @hash, @traceParent, @webhookUrl)
            """, new { batchId, accountId, count = items.Count, now, key = idempotency?.Key, hash = idempotency?.BodyHash, traceParent = TraceParentOfThisRequest(), webhookUrl },
            transaction, cancellationToken: cancellationToken));
        await InsertItemsAsync(connection, transaction, batchId, accountId, items, now, cancellationToken);
        // Idle workers of every process wake when this commits (this process's are also woken by the caller).
        await database.NotifyAsync(connection, transaction, Workers.WorkSignal.Channel, cancellationToken);
        return new SubmitResult.Accepted(batchId, items.Count, Replayed: false);
    }

    private const string InsertItems = """
        INSERT INTO items (batch_id, idx, account_id, firstname, lastname, domain, company_name, linkedin_url,
                           fields, custom_json, reserved_credits, status, attempts, available_at)
        VALUES
        """;

    private static readonly string[] ItemParameters = ["@idx", "@firstname", "@lastname", "@domain", "@company", "@linkedin", "@fields", "@custom", "@reserved"];

    /// <summary>One row of VALUES; <paramref name="suffix"/> numbers its parameters in a multi-row INSERT.</summary>
    private static string ItemRow(string suffix) =>
        $"(@batchId, {string.Join(", ", ItemParameters.Take(1).Select(p => p + suffix))}, @accountId, {string.Join(", ", ItemParameters.Skip(1).Select(p => p + suffix))}, @status, 0, @now)";

    // SQLite is in-process: one prepared single-row INSERT run per item is cheaper than preparing a
    // 100-row statement. PostgreSQL is a round trip away: one multi-row INSERT for the whole batch.
    private static Task InsertItemsAsync(DbConnection connection, DbTransaction transaction, string batchId, string accountId, IReadOnlyList<SubmittedItem> items, long now, CancellationToken cancellationToken) =>
        connection is SqliteConnection
            ? InsertOneByOneAsync(connection, transaction, batchId, accountId, items, now, cancellationToken)
            : InsertAllAtOnceAsync(connection, transaction, batchId, accountId, items, now, cancellationToken);

    private static async Task InsertOneByOneAsync(DbConnection connection, DbTransaction transaction, string batchId, string accountId, IReadOnlyList<SubmittedItem> items, long now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertItems + ItemRow("");
        DbParameter Parameter(string name, object? value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
            return parameter;
        }

        Parameter("@batchId", batchId);
        Parameter("@accountId", accountId);
        Parameter("@status", ItemStatus.Processing);
        Parameter("@now", now);
        var row = ItemParameters.Select(name => Parameter(name, null)).ToArray();
        await command.PrepareAsync(cancellationToken);
        for (var i = 0; i < items.Count; i++)
        {
            var values = ItemValues(items[i], i);
            for (var p = 0; p < row.Length; p++)
            {
                row[p].Value = values[p] ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static Task InsertAllAtOnceAsync(DbConnection connection, DbTransaction transaction, string batchId, string accountId, IReadOnlyList<SubmittedItem> items, long now, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder(InsertItems);
        var parameters = new DynamicParameters(new { batchId, accountId, now, status = ItemStatus.Processing });
        for (var i = 0; i < items.Count; i++)
        {
            var values = ItemValues(items[i], i);
            for (var p = 0; p < ItemParameters.Length; p++)
            {
                parameters.Add($"{ItemParameters[p][1..]}{i}", values[p]);
            }

            sql.Append(i == 0 ? "\n" : ",\n").Append(ItemRow($"{i}"));
        }

        return connection.ExecuteAsync(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: cancellationToken));
    }

    private static object?[] ItemValues(SubmittedItem item, int index) =>
    [
        index, item.Person.FirstName, item.Person.LastName, item.Person.Domain, item.Person.CompanyName, item.Person.LinkedInUrl, (int)item.Fields,
        item.Custom is null ? null : JsonSerializer.Serialize(item.Custom, BatchJsonContext.Default.IReadOnlyDictionaryStringString),
        item.ReservedCredits,
    ];

    /// <summary>The submitting request's span (W3C traceparent), which the workers' spans for its items continue.</summary>
    private static string? TraceParentOfThisRequest() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } request ? request.Id : null;

    /// <summary>The traceparent of the request that submitted the batch; null when that request was not traced.</summary>
    public async Task<string?> TraceParentAsync(string batchId, CancellationToken cancellationToken)
    {
        if (_traceParents.TryGetValue(batchId, out var known))
        {
            return known;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var traceParent = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT trace_parent FROM batches WHERE id = @batchId", new { batchId }, cancellationToken: cancellationToken));
        if (_traceParents.Count >= RememberedTraces)
        {
            _traceParents.Clear();
        }

        _traceParents[batchId] = traceParent;
        return traceParent;
    }

    /// <summary>The batch if <paramref name="accountId"/> submitted it; for anyone else it does not exist.</summary>
    public async Task<StoredBatch?> FindAsync(string accountId, string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var items = (await connection.QueryAsync<(long Idx, long Fields, string Status, string? CustomJson, string? ResultJson, string? LastError,
            string? Firstname, string? Lastname, string? Domain, string? CompanyName, string? LinkedinUrl)>(new CommandDefinition("""
            SELECT i.idx, i.fields, i.status, i.custom_json, i.result_json, i.last_error,
                   i.firstname, i.lastname, i.domain, i.company_name, i.linkedin_url
            FROM batches b JOIN items i ON i.batch_id = b.id
            WHERE b.id = @batchId AND b.account_id = @accountId
            ORDER BY i.idx
            """, new { batchId, accountId }, cancellationToken: cancellationToken))).ToList();
        return items.Count == 0
            ? null
            : new StoredBatch(batchId, items.Select(i => new StoredItem(
                (int)i.Idx, (EnrichFields)i.Fields, i.Status,
                i.CustomJson is null ? null : JsonSerializer.Deserialize(i.CustomJson, BatchJsonContext.Default.IReadOnlyDictionaryStringString),
                i.Status == ItemStatus.Completed && i.ResultJson is not null ? StoredAnswer.Read(i.ResultJson) : null,
                i.Status == ItemStatus.Failed ? i.LastError : null,
                new Person(i.Firstname ?? "", i.Lastname ?? "", i.Domain ?? "", i.CompanyName, i.LinkedinUrl))).ToList());
    }

    private sealed class PreviousBatch
    {
        public string Id { get; init; } = "";
        public long ItemCount { get; init; }
        public byte[] BodyHash { get; init; } = [];
        public long CreatedAt { get; init; }
    }
}

/// <summary>An item's custom fields, stored as the client sent them.</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class BatchJsonContext : JsonSerializerContext;
