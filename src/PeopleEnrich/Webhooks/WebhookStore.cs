using System.Data.Common;
using Dapper;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Webhooks;

/// <summary>An account's webhook settings: its default URL (null when none), whether a 410 disabled it, and whether it has a secret.</summary>
public sealed record AccountWebhook(string? Url, DateTimeOffset? DisabledAt, string? DisabledReason, bool HasSecret);

/// <summary>The secrets a call is signed with: the current one, and the one a rotation replaced while the overlap lasts.</summary>
public sealed record SigningSecrets(string Current, string? Previous)
{
    public IEnumerable<string> All => Previous is null ? [Current] : [Current, Previous];
}

/// <summary>One event of the outbox as 'webhooks deliveries' lists it.</summary>
public sealed record WebhookDeliveryRow(string EventId, string RequestId, string Url, int Attempts, string? LastStatus, DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt, string State, DateTimeOffset CreatedAt);

/// <summary>An event a delivery worker holds a lease on.</summary>
public sealed record ClaimedEvent(string Id, string BatchId, string AccountId, string Url, bool FromDefault, DateTimeOffset CreatedAt, int Attempts);

public static class WebhookStates
{
    public const string Pending = "PENDING";
    public const string Delivered = "DELIVERED";
    public const string Failed = "FAILED";
    public const string Disabled = "DISABLED";
}

/// <summary>
/// The webhooks' tables: each account's default URL and signing secret, and the outbox of events, claimed with leases
/// as the items queue is (FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's one writer otherwise).
/// </summary>
public sealed class WebhookStore(Database database, TimeProvider time)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public Task SetDefaultAsync(string accountId, string url, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO account_webhooks (account_id, url, updated_at) VALUES (@accountId, @url, @now)
            ON CONFLICT (account_id) DO UPDATE SET url = excluded.url, disabled_at = NULL, disabled_reason = NULL, updated_at = excluded.updated_at
            """, new { accountId, url, now = Now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>False when the account had no default URL.</summary>
    public async Task<bool> ClearDefaultAsync(string accountId, CancellationToken cancellationToken) =>
        await database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            UPDATE account_webhooks SET url = NULL, disabled_at = NULL, disabled_reason = NULL, updated_at = @now
            WHERE account_id = @accountId AND url IS NOT NULL
            """, new { accountId, now = Now }, transaction, cancellationToken: cancellationToken)), cancellationToken) > 0;

    public async Task<AccountWebhook> GetAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<SettingsRow>(new CommandDefinition(
            "SELECT url, disabled_at, disabled_reason, secret FROM account_webhooks WHERE account_id = @accountId",
            new { accountId }, cancellationToken: cancellationToken));
        return row is null
            ? new AccountWebhook(null, null, null, false)
            : new AccountWebhook(row.Url, row.DisabledAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null, row.DisabledReason, row.Secret is not null);
    }

    /// <summary>
    /// The account's signing secret, created on first use (concurrent first uses agree on one); <paramref name="rotate"/>
    /// replaces it and keeps the one it replaces as the previous secret, with the time of the rotation.
    /// </summary>
    public async Task<string> SecretAsync(string accountId, bool rotate, CancellationToken cancellationToken) =>
        (await SigningSecretsAsync(accountId, rotate, TimeSpan.Zero, cancellationToken)).Current;

    /// <summary>
    /// The secrets a call is signed with: the current one (created on first use) and, for <paramref name="overlap"/>
    /// after a rotation, the one it replaced, so a receiver that still knows only the old secret keeps verifying.
    /// </summary>
    /// <remarks>Every delivery asks: a plain read, and a write transaction only the first time, to create the secret.</remarks>
    public async Task<SigningSecrets> SigningSecretsAsync(string accountId, TimeSpan overlap, CancellationToken cancellationToken)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            if (await ReadSecretsAsync(connection, null, accountId, cancellationToken) is { Secret: not null } row)
            {
                return Signing(row, overlap, Now);
            }
        }

        return await SigningSecretsAsync(accountId, rotate: false, overlap, cancellationToken);
    }

    private Task<SigningSecrets> SigningSecretsAsync(string accountId, bool rotate, TimeSpan overlap, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var now = Now;
            var update = rotate
                ? "secret = excluded.secret, previous_secret = account_webhooks.secret, rotated_at = excluded.updated_at, updated_at = excluded.updated_at"
                : "secret = COALESCE(account_webhooks.secret, excluded.secret), updated_at = CASE WHEN account_webhooks.secret IS NULL THEN excluded.updated_at ELSE account_webhooks.updated_at END";
            await connection.ExecuteAsync(new CommandDefinition($"""
                INSERT INTO account_webhooks (account_id, secret, updated_at) VALUES (@accountId, @secret, @now)
                ON CONFLICT (account_id) DO UPDATE SET {update}
                """, new { accountId, secret = WebhookSignature.NewSecret(), now }, transaction, cancellationToken: cancellationToken));
            return Signing((await ReadSecretsAsync(connection, transaction, accountId, cancellationToken))!, overlap, now);
        }, cancellationToken);

    private static Task<SecretsRow?> ReadSecretsAsync(DbConnection connection, DbTransaction? transaction, string accountId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<SecretsRow>(new CommandDefinition(
            "SELECT secret, previous_secret, rotated_at FROM account_webhooks WHERE account_id = @accountId",
            new { accountId }, transaction, cancellationToken: cancellationToken));

    private static SigningSecrets Signing(SecretsRow row, TimeSpan overlap, long now)
    {
        var previousStillSigns = row.PreviousSecret is not null && row.RotatedAt is { } rotatedAt && now < rotatedAt + (long)overlap.TotalMilliseconds;
        return new SigningSecrets(row.Secret ?? "", previousStillSigns ? row.PreviousSecret : null);
    }

    /// <summary>
    /// Inside the transaction that completed <paramref name="batch"/>: its event, to the URL it was submitted with or else
    /// to the account's default (unless a 410 disabled it). False when there is nowhere to send it.
    /// </summary>
    public async Task<bool> AddEventAsync(DbConnection connection, DbTransaction transaction, CompletedBatch batch)
    {
        var url = batch.WebhookUrl ?? await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT url FROM account_webhooks WHERE account_id = @AccountId AND url IS NOT NULL AND disabled_at IS NULL", new { batch.AccountId }, transaction));
        if (url is null)
        {
            return false;
        }

        var at = batch.At.ToUnixTimeMilliseconds();
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO webhook_events (id, batch_id, account_id, url, from_default, created_at, state, attempts, next_attempt_at)
            VALUES (@eventId, @batchId, @AccountId, @url, @fromDefault, @at, @state, 0, @at)
            ON CONFLICT (batch_id) DO NOTHING
            """, new { eventId = WebhookSignature.NewEventId(), batchId = batch.Id, batch.AccountId, url, fromDefault = batch.WebhookUrl is null ? 1 : 0, at, state = WebhookStates.Pending },
            transaction));
        return true;
    }

    /// <summary>The next due event, leased to <paramref name="owner"/> for <paramref name="lease"/>; its attempt is counted now.</summary>
    public async Task<ClaimedEvent?> ClaimAsync(string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Now;
        var lockClause = database.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        // One statement, in autocommit on PostgreSQL: an idle poll is one round trip.
        var row = await database.WriteOnceAsync(async (connection, transaction) => await connection.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition($"""
            UPDATE webhook_events SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1, last_attempt_at = @now
            WHERE id IN (
                SELECT id FROM webhook_events
                WHERE state = @pending AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                ORDER BY next_attempt_at, id
                LIMIT 1 {lockClause})
            RETURNING id, batch_id, account_id, url, from_default, created_at, attempts
            """, new { owner, until = now + (long)lease.TotalMilliseconds, now, pending = WebhookStates.Pending }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
        return row is null
            ? null
            : new ClaimedEvent(row.Id, row.BatchId, row.AccountId, row.Url, row.FromDefault != 0, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt), (int)row.Attempts);
    }

    /// <summary>At start-up: what this worker's previous life held when it died is due again at once, not when its leases run out.</summary>
    public Task<int> ReleaseHeldAsync(string owner, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_events SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = @owner AND state = @pending",
            new { owner, pending = WebhookStates.Pending }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The attempt's end: <paramref name="state"/> (PENDING again with <paramref name="nextAttempt"/> for a retry), guarded by the lease.</summary>
    public Task<bool> RecordAsync(ClaimedEvent claimed, string owner, string state, string lastStatus, DateTimeOffset? nextAttempt, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE webhook_events SET state = @state, last_status = @lastStatus, next_attempt_at = @next, lease_owner = NULL, lease_until = NULL
            WHERE id = @Id AND lease_owner = @owner AND attempts = @Attempts
            """, new { claimed.Id, claimed.Attempts, owner, state, lastStatus, next = nextAttempt?.ToUnixTimeMilliseconds() ?? Now },
            transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>
    /// A receiver answered 410 Gone to the account's default URL: the default is disabled (until 'webhooks set' again), and
    /// the events waiting for that URL are stopped with it.
    /// </summary>
    public Task DisableDefaultAsync(string accountId, string url, string reason, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var now = Now;
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE account_webhooks SET disabled_at = @now, disabled_reason = @reason, updated_at = @now
                WHERE account_id = @accountId AND url = @url AND disabled_at IS NULL
                """, new { accountId, url, reason, now }, transaction, cancellationToken: cancellationToken));
            return await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE webhook_events SET state = @disabled, last_status = @reason
                WHERE account_id = @accountId AND url = @url AND from_default = 1 AND state = @pending AND lease_owner IS NULL
                """, new { accountId, url, reason, disabled = WebhookStates.Disabled, pending = WebhookStates.Pending }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);

    /// <summary>The account's events, newest first.</summary>
    public async Task<IReadOnlyList<WebhookDeliveryRow>> ListAsync(string accountId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ListedRow>(new CommandDefinition("""
            SELECT id, batch_id, url, attempts, last_status, last_attempt_at, next_attempt_at, state, created_at FROM webhook_events
            WHERE account_id = @accountId ORDER BY created_at DESC, id DESC LIMIT @limit
            """, new { accountId, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new WebhookDeliveryRow(r.Id, r.BatchId, r.Url, (int)r.Attempts, r.LastStatus,
            r.LastAttemptAt is { } last ? DateTimeOffset.FromUnixTimeMilliseconds(last) : null,
            r.State == WebhookStates.Pending ? DateTimeOffset.FromUnixTimeMilliseconds(r.NextAttemptAt) : null,
            r.State, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt))).ToList();
    }

    private sealed class SettingsRow
    {
        public string? Url { get; init; }
        public long? DisabledAt { get; init; }
        public string? DisabledReason { get; init; }
        public string? Secret { get; init; }
    }

    private sealed class SecretsRow
    {
        public string? Secret { get; init; }
        public string? PreviousSecret { get; init; }
        public long? RotatedAt { get; init; }
    }

    private sealed class EventRow
    {
        public string Id { get; init; } = "";
        public string BatchId { get; init; } = "";
        public string AccountId { get; init; } = "";
        public string Url { get; init; } = "";
        public long FromDefault { get; init; }
        public long CreatedAt { get; init; }
        public long Attempts { get; init; }
    }

    private sealed class ListedRow
    {
        public string Id { get; init; } = "";
        public string BatchId { get; init; } = "";
        public string Url { get; init; } = "";
        public long Attempts { get; init; }
        public string? LastStatus { get; init; }
        public long? LastAttemptAt { get; init; }
        public long NextAttemptAt { get; init; }
        public string State { get; init; } = "";
        public long CreatedAt { get; init; }
    }
}
