using System.Data.Common;
using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Credits;

/// <summary>One line of an account's ledger: a grant, a settled item (charged, and the rest of its reservation released), or a refund of an item's email.</summary>
public sealed record LedgerEntry(DateTimeOffset At, string Kind, long Granted, long Charged, long Released, string? RequestId, int? Item)
{
    public long Refunded { get; init; }
}

/// <summary>
/// Every movement of credits: reserve at submission, settle (charge what was found, release the rest)
/// when an item ends, grant. The account row keeps the running totals, which a CHECK keeps from going
/// negative; <c>credit_entries</c> is the ledger they must always add up to (used credits are what was charged less what
/// was refunded). The writing methods run
/// inside the caller's transaction, so a movement commits with the change that causes it.
/// </summary>
public sealed class CreditLedger(Database database, TimeProvider time)
{
    public const string Grant = "GRANT";
    public const string Settle = "SETTLE";
    public const string Refund = "REFUND";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Reserves <paramref name="amount"/> if the account has it left; one conditional UPDATE, so concurrent reservations cannot overdraw.</summary>
    public static async Task<bool> TryReserveAsync(DbConnection connection, DbTransaction transaction, string accountId, long amount, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE accounts SET reserved_credits = reserved_credits + @amount
            WHERE id = @accountId AND total_credits - used_credits - reserved_credits >= @amount
            """, new { accountId, amount }, transaction, cancellationToken: cancellationToken)) == 1;

    public static Task<long> RemainingAsync(DbConnection connection, DbTransaction? transaction, string accountId, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT total_credits - used_credits - reserved_credits FROM accounts WHERE id = @accountId",
            new { accountId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// An item ended: charges <paramref name="charged"/> of its reservation and releases the rest (all of it
    /// for a FAILED item). The ledger row is unique per item, so a second settlement cannot commit.
    /// </summary>
    /// <remarks>
    /// When the charge includes an email (<paramref name="chargedAddress"/>), the address is remembered (as its hash) with this item:
    /// what a reported bounce refunds (<see cref="BounceRefunds"/>).
    /// </remarks>
    public async Task SettleAsync(DbConnection connection, DbTransaction transaction, string accountId, string batchId, long item, long reserved, long charged,
        ChargedAddress? chargedAddress, CancellationToken cancellationToken)
    {
        if (chargedAddress is not null)
        {
            await BounceRefunds.RememberChargeAsync(connection, transaction, accountId, batchId, item, chargedAddress, Now, cancellationToken);
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE accounts SET used_credits = used_credits + @charged, reserved_credits = reserved_credits - @reserved
            WHERE id = @accountId
            """, new { accountId, charged, reserved }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO credit_entries (account_id, kind, charged, released, batch_id, item_idx, created_at)
            VALUES (@accountId, '{Settle}', @charged, @released, @batchId, @item, @now)
            """, new { accountId, batchId, item, charged, released = reserved - charged, now = Now },
            transaction, cancellationToken: cancellationToken));
    }

    public async Task GrantAsync(DbConnection connection, DbTransaction transaction, string accountId, long amount, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE accounts SET total_credits = total_credits + @amount WHERE id = @accountId",
            new { amount, accountId }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO credit_entries (account_id, kind, granted, created_at) VALUES (@accountId, '{Grant}', @amount, @now)",
            new { accountId, amount, now = Now }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>An account's ledger, newest first: what an operator reads to answer "why was I charged?".</summary>
    public async Task<IReadOnlyList<LedgerEntry>> HistoryAsync(string accountId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long CreatedAt, string Kind, long Granted, long Charged, long Released, string? BatchId, long? ItemIdx, long Refunded)>(new CommandDefinition("""
            SELECT created_at, kind, granted, charged, released, batch_id, item_idx, refunded FROM credit_entries
            WHERE account_id = @accountId
            ORDER BY created_at DESC, id DESC
            LIMIT @limit
            """, new { accountId, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new LedgerEntry(DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), r.Kind, r.Granted, r.Charged, r.Released, r.BatchId,
            r.ItemIdx is null ? null : (int)r.ItemIdx) { Refunded = r.Refunded }).ToList();
    }
}
