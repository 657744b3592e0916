using System.Data.Common;
using Dapper;
using PeopleEnrich.Credits;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Accounts;

public sealed record AccountSummary(string Id, string Name, long TotalCredits, long UsedCredits, long ReservedCredits, IReadOnlyList<string> ActiveKeys)
{
    public long RemainingCredits => TotalCredits - UsedCredits - ReservedCredits;

    /// <summary>Credits ever charged for found emails and phones (before refunds).</summary>
    public long ChargedCredits { get; init; }

    /// <summary>Credits ever refunded for reported bounces: against <see cref="ChargedCredits"/>, what shows abuse.</summary>
    public long RefundedCredits { get; init; }

    /// <summary>How many refunds (one per bounced address and charge).</summary>
    public long Refunds { get; init; }
}

public sealed record CreatedAccount(string AccountId, string Name, string ApiKey);

public sealed record CreditBalance(long Total, long Used, long Reserved)
{
    public long Remaining => Total - Used - Reserved;
}

/// <summary>Accounts, their keys and their credit grants: what the admin commands and the edge need.</summary>
public sealed class AccountStore(Database database, CreditLedger ledger, TimeProvider time)
{
    public const int MinimumKeyLength = 16;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<CreatedAccount> CreateAccountAsync(string name, long credits, string? apiKey, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new AdminInputException("The account name must not be empty.");
        }

        if (credits < 0)
        {
            throw new AdminInputException("Credits must be zero or more.");
        }

        var key = apiKey ?? ApiKeys.Generate();
        if (key.Length < MinimumKeyLength)
        {
            throw new AdminInputException($"An API key must be at least {MinimumKeyLength} characters long.");
        }

        var accountId = Guid.CreateVersion7().ToString();
        return await database.InTransactionAsync(async (connection, transaction) =>
        {
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM accounts WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken));
            if (exists > 0)
            {
                throw new AdminInputException($"An account named '{name}' already exists.");
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO accounts (id, name, total_credits, created_at) VALUES (@accountId, @name, 0, @now)",
                new { accountId, name, now = Now }, transaction, cancellationToken: cancellationToken));
            if (credits > 0)
            {
                await ledger.GrantAsync(connection, transaction, accountId, credits, cancellationToken);
            }

            await InsertKeyAsync(connection, transaction, accountId, key, cancellationToken);
            return new CreatedAccount(accountId, name, key);
        }, cancellationToken);
    }

    public async Task<string> CreateKeyAsync(string account, CancellationToken cancellationToken)
    {
        var key = ApiKeys.Generate();
        await database.InTransactionAsync(async (connection, transaction) =>
        {
            var accountId = await ResolveAccountAsync(connection, transaction, account, cancellationToken);
            await InsertKeyAsync(connection, transaction, accountId, key, cancellationToken);
            return accountId;
        }, cancellationToken);
        return key;
    }

    /// <summary>Revokes the one active key whose stored prefix starts with <paramref name="prefix"/>.</summary>
    public async Task<string> RevokeKeyAsync(string prefix, CancellationToken cancellationToken)
    {
        var handle = ApiKeys.LookupPrefix(prefix.Trim());
        if (handle.Length < 6)
        {
            throw new AdminInputException("Give at least the first 6 characters of the key (as shown by 'keys create' or 'accounts list').");
        }

        return await database.InTransactionAsync(async (connection, transaction) =>
        {
            var matches = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT prefix FROM api_keys WHERE revoked_at IS NULL AND prefix LIKE @pattern ESCAPE '\\'",
                new { pattern = EscapeLike(handle) + "%" }, transaction, cancellationToken: cancellationToken))).ToList();
            if (matches.Count == 0)
            {
                throw new AdminInputException($"No active key starts with '{handle}'.");
            }

            if (matches.Count > 1)
            {
                throw new AdminInputException($"{matches.Count} active keys start with '{handle}': give more characters.");
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE api_keys SET revoked_at = @now WHERE prefix = @prefix",
                new { now = Now, prefix = matches[0] }, transaction, cancellationToken: cancellationToken));
            return matches[0];
        }, cancellationToken);
    }

    public async Task<CreditBalance> GrantCreditsAsync(string account, long amount, CancellationToken cancellationToken)
    {
        if (amount <= 0)
        {
            throw new AdminInputException("The amount must be a positive whole number.");
        }

        return await database.InTransactionAsync(async (connection, transaction) =>
        {
            var accountId = await ResolveAccountAsync(connection, transaction, account, cancellationToken);
            await ledger.GrantAsync(connection, transaction, accountId, amount, cancellationToken);
            return await BalanceAsync(connection, transaction, accountId, cancellationToken);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<AccountSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<AccountRow>(new CommandDefinition($"""
            SELECT a.id AS Id, a.name AS Name, a.total_credits AS Total, a.used_credits AS Used, a.reserved_credits AS Reserved,
                   CAST(COALESCE(SUM(c.charged), 0) AS BIGINT) AS Charged, CAST(COALESCE(SUM(c.refunded), 0) AS BIGINT) AS Refunded,
                   COUNT(CASE WHEN c.kind = '{CreditLedger.Refund}' THEN 1 END) AS Refunds
            FROM accounts a LEFT JOIN credit_entries c ON c.account_id = a.id
            GROUP BY a.id, a.name, a.total_credits, a.used_credits, a.reserved_credits, a.created_at
            ORDER BY a.created_at, a.id
            """, cancellationToken: cancellationToken));
        var keys = (await connection.QueryAsync<(string AccountId, string Prefix)>(new CommandDefinition(
            "SELECT account_id, prefix FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at", cancellationToken: cancellationToken)))
            .ToLookup(k => k.AccountId, k => k.Prefix);
        return rows.Select(r => new AccountSummary(r.Id, r.Name, r.Total, r.Used, r.Reserved, keys[r.Id].ToList())
        {
            ChargedCredits = r.Charged,
            RefundedCredits = r.Refunded,
            Refunds = r.Refunds,
        }).ToList();
    }

    /// <summary>A row of the accounts list (settable: the providers give sums and counts as different integer types).</summary>
    private sealed class AccountRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public long Total { get; set; }
        public long Used { get; set; }
        public long Reserved { get; set; }
        public long Charged { get; set; }
        public long Refunded { get; set; }
        public long Refunds { get; set; }
    }

    /// <summary>The id of the account with this id or name; an <see cref="AdminInputException"/> when there is none.</summary>
    public async Task<string> FindIdAsync(string account, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await ResolveAccountAsync(connection, null, account, cancellationToken);
    }

    public async Task<bool> AnyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM accounts", cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The account a presented key belongs to, or null when it is unknown or revoked.</summary>
    public async Task<string?> FindAccountByKeyAsync(string presented, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var candidates = await connection.QueryAsync<(string AccountId, byte[] Hash)>(new CommandDefinition(
            "SELECT account_id, hash FROM api_keys WHERE prefix = @prefix AND revoked_at IS NULL",
            new { prefix = ApiKeys.LookupPrefix(presented) }, cancellationToken: cancellationToken));
        string? found = null;
        foreach (var candidate in candidates)
        {
            if (ApiKeys.Matches(presented, candidate.Hash))
            {
                found = candidate.AccountId;
            }
        }

        return found;
    }

    public async Task<bool> ExistsAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM accounts WHERE id = @accountId", new { accountId }, cancellationToken: cancellationToken)) > 0;
    }

    public async Task<CreditBalance> GetBalanceAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await BalanceAsync(connection, null, accountId, cancellationToken);
    }

    private static async Task<CreditBalance> BalanceAsync(DbConnection connection, DbTransaction? transaction, string accountId, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleAsync<(long Total, long Used, long Reserved)>(new CommandDefinition(
            "SELECT total_credits, used_credits, reserved_credits FROM accounts WHERE id = @accountId",
            new { accountId }, transaction, cancellationToken: cancellationToken));
        return new CreditBalance(row.Total, row.Used, row.Reserved);
    }

    /// <summary>Accepts an account id or, for convenience at the console, its unique name.</summary>
    private static async Task<string> ResolveAccountAsync(DbConnection connection, DbTransaction? transaction, string account, CancellationToken cancellationToken)
    {
        var id = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT id FROM accounts WHERE id = @account OR name = @account ORDER BY CASE WHEN id = @account THEN 0 ELSE 1 END LIMIT 1",
            new { account }, transaction, cancellationToken: cancellationToken));
        return id ?? throw new AdminInputException($"No account with id or name '{account}'.");
    }

    private async Task InsertKeyAsync(DbConnection connection, DbTransaction transaction, string accountId, string key, CancellationToken cancellationToken)
    {
        var prefix = ApiKeys.LookupPrefix(key);
        var taken = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM api_keys WHERE prefix = @prefix", new { prefix }, transaction, cancellationToken: cancellationToken));
        if (taken > 0)
        {
            throw new AdminInputException("Another key already starts with the same characters; choose a different key.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (id, account_id, prefix, hash, created_at) VALUES (@id, @accountId, @prefix, @hash, @now)",
            new { id = Guid.CreateVersion7().ToString(), accountId, prefix, hash = ApiKeys.Hash(key), now = Now },
            transaction, cancellationToken: cancellationToken));
    }

    private static string EscapeLike(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}

/// <summary>A mistake in what an operator asked for: shown to them as it is, never a stack trace.</summary>
public sealed class AdminInputException(string message) : Exception(message);
