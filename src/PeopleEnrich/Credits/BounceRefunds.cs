using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Credits;

public sealed class BounceOptions
{
    /// <summary>How long after an email was charged a reported bounce of it is refunded (and its charge remembered).</summary>
    public TimeSpan RefundWindow { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long a reported bounce keeps its address INVALID for everyone: a mailbox can be created again, and the address is personal data.</summary>
    public TimeSpan Remember { get; set; } = TimeSpan.FromDays(365);

    public static bool IsValid(BounceOptions options) => options.RefundWindow > TimeSpan.Zero && options.Remember > TimeSpan.Zero;
}

/// <summary>The email of a settled item's charge: the address (lower case) and what its email cost (<see cref="CreditPrices.Email"/> then).</summary>
public sealed record ChargedAddress(string Email, long Credits);

/// <summary>What a reported bounce did to the reporting account's credits.</summary>
public abstract record RefundOutcome
{
    /// <summary>Refunded now: <paramref name="Credits"/> back, for the charge of item <paramref name="Item"/> of request <paramref name="RequestId"/>.</summary>
    public sealed record Refunded(string RequestId, long Item, long Credits) : RefundOutcome;

    /// <summary>Refunded before, for the same charge.</summary>
    public sealed record AlreadyRefunded(string RequestId) : RefundOutcome;

    /// <summary>Charged, but longer ago than the refund window.</summary>
    public sealed record TooOld(string RequestId) : RefundOutcome;

    /// <summary>This account was never charged for the address (within the window: older charges are forgotten).</summary>
    public sealed record NeverCharged : RefundOutcome;
}

/// <summary>
/// Refunds of bounced emails. Every settled charge that includes an email remembers the address (its SHA-256, never the
/// address) with the item, one row per account and address (the latest charge), for <see cref="BounceOptions.RefundWindow"/>:
/// the request's stored answers may be deleted sooner (Retention:Results), the refund must not depend on them.
/// A refund is one transaction: a conditional UPDATE marks the charge refunded (so of two concurrent reports one finds it
/// already marked, on either database), gives the credits back and writes a <see cref="CreditLedger.Refund"/> entry naming
/// the charged item (unique per item and kind, a second guard).
/// </summary>
public sealed class BounceRefunds(Database database, TimeProvider time, IOptions<BounceOptions> options)
{
    public TimeSpan Window => options.Value.RefundWindow;

    /// <summary>The key an address is remembered by: the hex SHA-256 of its normal form.</summary>
    public static string HashOf(string address) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address.ToLowerInvariant())));

    /// <summary>In the settlement's transaction. A new charge of the address replaces the one remembered, refundable again.</summary>
    internal static Task RememberChargeAsync(DbConnection connection, DbTransaction transaction, string accountId, string batchId, long item, ChargedAddress charged, long now,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO charged_addresses (account_id, address_hash, batch_id, item_idx, credits, charged_at, refunded_at)
            VALUES (@accountId, @hash, @batchId, @item, @credits, @now, NULL)
            ON CONFLICT (account_id, address_hash) DO UPDATE SET batch_id = excluded.batch_id, item_idx = excluded.item_idx,
                credits = excluded.credits, charged_at = excluded.charged_at, refunded_at = NULL
            """, new { accountId, hash = HashOf(charged.Email), batchId, item, credits = charged.Credits, now }, transaction, cancellationToken: cancellationToken));

    /// <summary>Refunds the account's charge for <paramref name="address"/> once, if it was charged within the window.</summary>
    public Task<RefundOutcome> RefundAsync(string accountId, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var since = now - (long)options.Value.RefundWindow.TotalMilliseconds;
        var hash = HashOf(address);
        return database.InTransactionAsync<RefundOutcome>(async (connection, transaction) =>
        {
            var charge = await connection.QuerySingleOrDefaultAsync<ChargeRow>(new CommandDefinition("""
                UPDATE charged_addresses SET refunded_at = @now
                WHERE account_id = @accountId AND address_hash = @hash AND refunded_at IS NULL AND charged_at >= @since
                RETURNING batch_id AS BatchId, item_idx AS ItemIdx, credits AS Credits, charged_at AS ChargedAt
                """, new { accountId, hash, now, since }, transaction, cancellationToken: cancellationToken));
            if (charge is null)
            {
                return await WhyNotAsync(connection, transaction, accountId, hash, since, cancellationToken);
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE accounts SET used_credits = used_credits - @Credits WHERE id = @accountId",
                new { accountId, charge.Credits }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition($"""
                INSERT INTO credit_entries (account_id, kind, refunded, batch_id, item_idx, created_at)
                VALUES (@accountId, '{CreditLedger.Refund}', @Credits, @BatchId, @ItemIdx, @now)
                """, new { accountId, charge.Credits, charge.BatchId, charge.ItemIdx, now }, transaction, cancellationToken: cancellationToken));
            return new RefundOutcome.Refunded(charge.BatchId, charge.ItemIdx, charge.Credits);
        }, cancellationToken);
    }

    private static async Task<RefundOutcome> WhyNotAsync(DbConnection connection, DbTransaction transaction, string accountId, string hash, long since, CancellationToken cancellationToken)
    {
        var charge = await connection.QuerySingleOrDefaultAsync<ChargeRow>(new CommandDefinition("""
            SELECT batch_id AS BatchId, item_idx AS ItemIdx, credits AS Credits, charged_at AS ChargedAt, refunded_at AS RefundedAt
            FROM charged_addresses WHERE account_id = @accountId AND address_hash = @hash
            """, new { accountId, hash }, transaction, cancellationToken: cancellationToken));
        return charge switch
        {
            null => new RefundOutcome.NeverCharged(),
            { RefundedAt: not null } => new RefundOutcome.AlreadyRefunded(charge.BatchId),
            _ when charge.ChargedAt < since => new RefundOutcome.TooOld(charge.BatchId),
            _ => new RefundOutcome.NeverCharged(),
        };
    }

    /// <summary>A row of charged_addresses (settable: the providers give integers as different types).</summary>
    private sealed class ChargeRow
    {
        public string BatchId { get; set; } = "";
        public long ItemIdx { get; set; }
        public long Credits { get; set; }
        public long ChargedAt { get; set; }
        public long? RefundedAt { get; set; }
    }
}
