using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Storage;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Queue;

/// <summary>
/// An item a worker holds a lease on: who it is looking for, which attempt this is, and how often it was put off,
/// for greylisting (<paramref name="Deferrals"/>) and after an outage (<paramref name="OutageRetries"/>).
/// </summary>
public sealed record ClaimedItem(string BatchId, long Idx, string AccountId, Person Person, EnrichFields AskedFields, long ReservedCredits, long Attempts, long Deferrals,
    long OutageRetries)
{
    /// <summary>The owner whose lease had run out when this claim took the item over; null when the item was free.</summary>
    public string? TakenOverFrom { get; init; }

    /// <summary>A row of the items table as a claim returns it.</summary>
    internal class Row
    {
        public string BatchId { get; init; } = "";
        public long Idx { get; init; }
        public string AccountId { get; init; } = "";
        public string Firstname { get; init; } = "";
        public string Lastname { get; init; } = "";
        public string Domain { get; init; } = "";
        public string? CompanyName { get; init; }
        public string? LinkedinUrl { get; init; }
        public long Fields { get; init; }
        public long ReservedCredits { get; init; }
        public long Attempts { get; init; }
        public long Deferrals { get; init; }

        public long OutageRetries { get; init; }

        public string? PreviousOwner { get; init; }

        public ClaimedItem ToItem() => new(BatchId, Idx, AccountId, new Person(Firstname, Lastname, Domain, CompanyName, LinkedinUrl),
            (EnrichFields)Fields, ReservedCredits, Attempts, Deferrals, OutageRetries) { TakenOverFrom = PreviousOwner };
    }
}

/// <summary>
/// The work queue is the items table: an item is PROCESSING until settled, and a worker owns it
/// while its lease (owner, until) holds. Claims skip rows other workers hold; a lease that runs out
/// makes the item claimable again, and the attempt count on the row bounds the retries.
/// Settling (result + credits) is one transaction guarded by the lease, so it happens at most once.
/// </summary>
public sealed class ItemQueue(Database database, CreditLedger ledger, TimeProvider time, IEnumerable<IBatchCompletion>? completions = null)
{
    private readonly IBatchCompletion[] _completions = completions?.ToArray() ?? [];

    private const string ClaimableColumns =
        "batch_id, idx, account_id, firstname, lastname, domain, company_name, linkedin_url, fields, reserved_credits, attempts, deferrals, outage_retries, previous_owner";

    private const int MaxGroup = 200;
    private readonly ConcurrentQueue<Settlement> _pending = new();
    private readonly SemaphoreSlim _committer = new(1, 1);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<IReadOnlyList<ClaimedItem>> ClaimAsync(string owner, int limit, TimeSpan lease, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = Now;
        var lockClause = database.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        // previous_owner takes the old lease_owner (a SET reads the row as it was): set only when a lease ran out unsettled.
        var claimed = await database.WriteOnceAsync<IReadOnlyList<ClaimedItem>>(async (connection, transaction) => (await connection.QueryAsync<ClaimedItem.Row>(new CommandDefinition($"""
            UPDATE items SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1, previous_owner = lease_owner,
                             takeovers = takeovers + CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END
            WHERE (batch_id, idx) IN (
                SELECT batch_id, idx FROM items
                WHERE status = 'PROCESSING' AND available_at <= @now
                  AND (lease_until IS NULL OR lease_until < @now) AND attempts < @maxAttempts
                ORDER BY available_at, batch_id, idx
                LIMIT @limit {lockClause})
            RETURNING {ClaimableColumns}
            """, new { owner, until = now + (long)lease.TotalMilliseconds, now, maxAttempts, limit }, transaction, cancellationToken: cancellationToken))).Select(row => row.ToItem()).ToList(),
            cancellationToken, durable: false); // a claim lost in a power cut is only claimed again
        Instruments.LeasesTakenOver(claimed.Count(item => item.TakenOverFrom is not null));

        return claimed;
    }

    /// <summary>
    /// When the earliest item put off (a failed attempt's retry, a greylisting round, an outage's retry), by any process,
    /// becomes claimable; null when none waits. Nothing announces that moment, so an idle worker reads it. One look at the
    /// start of the claim's index (<c>items_ready</c>): a claimed item's time has passed, so only put-off items lie ahead.
    /// </summary>
    public async Task<DateTimeOffset?> NextPutOffDueAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var due = await connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            SELECT MIN(available_at) FROM items WHERE status = 'PROCESSING' AND available_at > @now AND attempts < @maxAttempts
            """, new { now = Now, maxAttempts }, cancellationToken: cancellationToken));
        return due is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
    }

    /// <summary>
    /// The heartbeat: the <paramref name="items"/> <paramref name="owner"/> is working on stay its own for <paramref name="lease"/>
    /// more, in one statement. Only those: an item whose work ended unsettled is let go, and one another worker took over
    /// meanwhile is not the owner's any more.
    /// </summary>
    public Task<int> RenewAsync(string owner, IReadOnlyCollection<ClaimedItem> items, TimeSpan lease, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new { owner, until = Now + (long)lease.TotalMilliseconds });
        var keys = new List<string>(items.Count);
        foreach (var (item, i) in items.Select((item, i) => (item, i)))
        {
            parameters.Add($"b{i}", item.BatchId);
            parameters.Add($"i{i}", item.Idx);
            keys.Add($"(@b{i}, @i{i})");
        }

        return database.WriteOnceAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition($"""
            UPDATE items SET lease_until = @until
            WHERE lease_owner = @owner AND status = 'PROCESSING' AND (batch_id, idx) IN ({string.Join(", ", keys)})
            """, parameters, transaction, cancellationToken: cancellationToken)),
            cancellationToken, durable: false); // a renewal lost in a power cut only shortens leases that died with it
    }

    /// <summary>
    /// A graceful stop: every item <paramref name="owner"/> still holds is claimable at once, in its place in the queue,
    /// and the attempt its claim counted is handed back (stopping is not the item's failure).
    /// </summary>
    /// <remarks>One transaction with its NOTIFY, so that other processes' idle workers take the items now.</remarks>
    public Task<int> ReleaseHeldAsync(string owner, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            var released = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE items SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
                WHERE lease_owner = @owner AND status = 'PROCESSING' AND attempts > 0
                """, new { owner }, transaction, cancellationToken: cancellationToken));
            if (released > 0)
            {
                await database.NotifyAsync(connection, transaction, WorkSignal.Channel, cancellationToken);
            }

            return released;
        }, cancellationToken);

    /// <summary>
    /// At start-up: the items this process's previous life held when it died are claimable now, not when their
    /// leases would have run out. Its death still counts as their attempt, as a lease that ran out would, and the
    /// next claim counts the take-over, so an item that kills its worker every time is still FAILED in the end.
    /// </summary>
    public Task<int> ExpireLeasesOfAsync(string owner, CancellationToken cancellationToken) =>
        database.WriteOnceAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE items SET lease_until = @expired WHERE lease_owner = @owner AND status = 'PROCESSING' AND lease_until > @expired
            """, new { owner, expired = Now - 1 }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Writes the result and charges what was found; false when the lease was lost meanwhile.</summary>
    public Task<bool> CompleteAsync(ClaimedItem item, string owner, EnrichmentOutcome outcome, CancellationToken cancellationToken)
    {
        // The email's part of the charge is remembered with its address: what a reported bounce of it refunds.
        var chargedAddress = (item.AskedFields & outcome.Found).HasFlag(EnrichFields.Emails) && outcome.MostProbableEmail is { } email
            ? new ChargedAddress(email, CreditPrices.Email)
            : null;
        return SettleAsync(item, owner, ItemStatus.Completed, outcome.ChargeFor(item.AskedFields),
            StoredAnswer.Write(outcome), error: null, cancellationToken, chargedAddress);
    }

    /// <summary>
    /// After a failed attempt: back on the queue after <paramref name="retryAfter"/>, or FAILED (its
    /// reservation released) when it has had <paramref name="maxAttempts"/>.
    /// </summary>
    public async Task<bool> ReleaseAfterFailureAsync(ClaimedItem item, string owner, string error, int maxAttempts, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        if (item.Attempts >= maxAttempts)
        {
            return await FailAsync(item, owner, $"{error} (gave up after {item.Attempts} attempts)", cancellationToken);
        }

        return await PutBackAsync(item, owner, error, retryAfter, PutOff.Failure, cancellationToken);
    }

    /// <summary>FAILED now, its reservation released: what failed would fail the same way again (a refusal of us).</summary>
    public Task<bool> FailAsync(ClaimedItem item, string owner, string error, CancellationToken cancellationToken) =>
        SettleAsync(item, owner, ItemStatus.Failed, charged: 0, resultJson: null, error, cancellationToken);

    /// <summary>
    /// Puts the item back until <paramref name="retryAfter"/> has passed, without counting the attempt:
    /// a deferral (greylisting) is not a failure. Deferrals are counted, and bounded by the source.
    /// </summary>
    public Task<bool> DeferAsync(ClaimedItem item, string owner, string reason, TimeSpan retryAfter, CancellationToken cancellationToken) =>
        PutBackAsync(item, owner, reason, retryAfter, PutOff.Greylisting, cancellationToken);

    /// <summary>
    /// Puts the item back until <paramref name="retryAfter"/> has passed, without counting the attempt: a source
    /// could not check something (an outage), which is no failure of the item. Counted in <c>outage_retries</c>, and
    /// bounded by the waterfall; apart from greylisting's deferrals, so that neither budget spends the other's.
    /// </summary>
    public Task<bool> DeferAfterOutageAsync(ClaimedItem item, string owner, string reason, TimeSpan retryAfter, CancellationToken cancellationToken) =>
        PutBackAsync(item, owner, reason, retryAfter, PutOff.Outage, cancellationToken);

    /// <summary>
    /// Gives the lease back and makes the item claimable after <paramref name="retryAfter"/>; a deferral (of
    /// either kind) hands back the attempt its claim counted and is counted as its kind instead.
    /// </summary>
    private async Task<bool> PutBackAsync(ClaimedItem item, string owner, string reason, TimeSpan retryAfter, PutOff kind, CancellationToken cancellationToken)
    {
        var putBack = await database.WriteOnceAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE items SET lease_owner = NULL, lease_until = NULL, available_at = @availableAt, last_error = @reason,
                             attempts = attempts - @greylisting - @outage, deferrals = deferrals + @greylisting, outage_retries = outage_retries + @outage
            WHERE batch_id = @BatchId AND idx = @Idx AND status = 'PROCESSING' AND lease_owner = @owner AND attempts = @Attempts
            """, new
            {
                item.BatchId, item.Idx, item.Attempts, owner, reason,
                greylisting = kind == PutOff.Greylisting ? 1 : 0,
                outage = kind == PutOff.Outage ? 1 : 0,
                availableAt = Now + (long)retryAfter.TotalMilliseconds,
            },
            transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);
        if (putBack)
        {
            Instruments.ItemPutOff(kind.ToString().ToLowerInvariant());
        }

        return putBack;
    }

    /// <summary>Why an item goes back on the queue: a failed attempt (counted as one), or one of the two deferrals (not).</summary>
    private enum PutOff
    {
        Failure,
        Greylisting,
        Outage,
    }

    /// <summary>
    /// Items whose last allowed attempt's worker died (its lease ran out, nobody settled it) are
    /// FAILED here and their reservations released; nothing else would ever finish them.
    /// </summary>
    public async Task<int> FailAbandonedAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken);
        var abandoned = (await connection.QueryAsync<ClaimedItem.Row>(new CommandDefinition($"""
            SELECT {ClaimableColumns} FROM items
            WHERE status = 'PROCESSING' AND attempts >= @maxAttempts AND lease_until < @now
            LIMIT 100
            """, new { now, maxAttempts }, cancellationToken: cancellationToken))).Select(row => row.ToItem()).ToList();
        var failed = 0;
        foreach (var item in abandoned)
        {
            var error = $"the worker processing this item stopped before finishing, {item.Attempts} times (gave up after {item.Attempts} attempts)";
            if (await SettleAsync(item, owner: null, ItemStatus.Failed, charged: 0, resultJson: null, error, cancellationToken))
            {
                failed++;
            }
        }

        return failed;
    }

    /// <summary>
    /// Of these items, settles those no worker holds (put off, or their lease run out) as COMPLETED with
    /// <paramref name="resultJson"/> and <paramref name="error"/>, charged nothing; returns how many a worker still holds.
    /// </summary>
    public async Task<int> FinishUnheldAsync(IReadOnlyCollection<(string BatchId, long Idx)> keys, string resultJson, string error, CancellationToken cancellationToken)
    {
        var unfinished = new List<UnfinishedRow>();
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // In chunks: SQLite takes at most 32,766 parameters in a statement.
            foreach (var chunk in keys.Chunk(500))
            {
                var parameters = new DynamicParameters(new { now = Now });
                var terms = chunk.Select((key, i) =>
                {
                    parameters.Add($"b{i}", key.BatchId);
                    parameters.Add($"i{i}", key.Idx);
                    return $"(batch_id = @b{i} AND idx = @i{i})";
                });
                unfinished.AddRange(await connection.QueryAsync<UnfinishedRow>(new CommandDefinition($"""
                    SELECT {ClaimableColumns}, CASE WHEN lease_until >= @now THEN 1 ELSE 0 END AS Held FROM items
                    WHERE status = 'PROCESSING' AND ({string.Join(" OR ", terms)})
                    """, parameters, cancellationToken: cancellationToken)));
            }
        }

        var held = unfinished.Count(row => row.Held == 1);
        foreach (var row in unfinished.Where(row => row.Held == 0))
        {
            if (!await SettleAsync(row.ToItem(), owner: null, ItemStatus.Completed, charged: 0, resultJson, error, cancellationToken))
            {
                held++; // claimed meanwhile: a worker holds it now
            }
        }

        return held;
    }

    /// <summary>
    /// Settles one item, in a group commit: settlements that arrive while a transaction is being
    /// written wait for the next one and share it (one commit, one fsync for many items). Each keeps
    /// its own lease guard, so one lost lease never spoils the others in its group.
    /// </summary>
    private async Task<bool> SettleAsync(ClaimedItem item, string? owner, string status, long charged, string? resultJson, string? error, CancellationToken cancellationToken,
        ChargedAddress? chargedAddress = null)
    {
        var settlement = new Settlement(item, owner, status, charged, resultJson, error, chargedAddress);
        _pending.Enqueue(settlement);
        await _committer.WaitAsync(cancellationToken);
        try
        {
            if (!settlement.Done.Task.IsCompleted)
            {
                var group = new List<Settlement>();
                while (group.Count < MaxGroup && _pending.TryDequeue(out var next))
                {
                    group.Add(next);
                }

                var completedAny = false;
                try
                {
                    var settled = await database.InTransactionAsync(
                        async (connection, transaction) =>
                        {
                            var outcomes = new List<bool>(group.Count);
                            foreach (var one in group)
                            {
                                outcomes.Add(await SettleInTransactionAsync(connection, transaction, one, CancellationToken.None));
                            }

                            var touched = group.Where((one, i) => outcomes[i]).Select(one => one.Item.BatchId);
                            completedAny = await CompleteBatchesAsync(connection, transaction, touched);
                            return outcomes;
                        },
                        // The group is other workers' too: one worker's cancellation must not undo theirs.
                        CancellationToken.None);
                    for (var i = 0; i < group.Count; i++)
                    {
                        if (settled[i])
                        {
                            Instruments.ItemSettled(group[i].Status, group[i].Charged);
                        }

                        group[i].Done.TrySetResult(settled[i]);
                    }

                    if (completedAny)
                    {
                        Array.ForEach(_completions, completion => completion.Committed());
                    }
                }
                catch (Exception exception)
                {
                    group.ForEach(one => one.Done.TrySetException(exception));
                }
            }
        }
        finally
        {
            _committer.Release();
        }

        return await settlement.Done.Task;
    }

    private async Task<bool> SettleInTransactionAsync(DbConnection connection, DbTransaction transaction, Settlement settlement, CancellationToken cancellationToken)
    {
        var (item, owner, status, charged, resultJson, error, chargedAddress) = settlement;
        var now = Now;
        // Owner null: the reaper or an erasure, which may settle only an item no lease holds (the claim count guards against a claim since).
        var settled = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE items SET status = @status, result_json = @resultJson, last_error = @error, charged_credits = @charged,
                             completed_at = @now, lease_owner = NULL, lease_until = NULL
            WHERE batch_id = @BatchId AND idx = @Idx AND status = 'PROCESSING' AND attempts = @Attempts
              AND ((@owner IS NOT NULL AND lease_owner = @owner) OR (@owner IS NULL AND (lease_until IS NULL OR lease_until < @now)))
            """, new { item.BatchId, item.Idx, item.Attempts, owner, status, resultJson, error, charged, now },
            transaction, cancellationToken: cancellationToken));
        if (settled == 0)
        {
            return false;
        }

        await ledger.SettleAsync(connection, transaction, item.AccountId, item.BatchId, item.Idx, item.ReservedCredits, charged, chargedAddress, cancellationToken);
        return true;
    }

    /// <summary>An unsettled item and whether a lease holds it now.</summary>
    private sealed class UnfinishedRow : ClaimedItem.Row
    {
        public long Held { get; init; }
    }

    /// <summary>
    /// The batches among <paramref name="batchIds"/> that this transaction made leave PROCESSING, told to every
    /// <see cref="IBatchCompletion"/> in the same transaction. On PostgreSQL each batch row is locked first, in id order
    /// (no two groups can deadlock on them): two processes settling a batch's last two items at once each wait for the
    /// other's commit before counting, so exactly one of them sees none left.
    /// </summary>
    private async Task<bool> CompleteBatchesAsync(DbConnection connection, DbTransaction transaction, IEnumerable<string> batchIds)
    {
        if (_completions.Length == 0)
        {
            return false;
        }

        var completed = false;
        var lockClause = database.IsPostgres ? "FOR UPDATE" : "";
        foreach (var batchId in batchIds.Distinct().Order(StringComparer.Ordinal))
        {
            var batch = await connection.QuerySingleOrDefaultAsync<BatchRow>(new CommandDefinition(
                $"SELECT id, account_id, webhook_url FROM batches WHERE id = @batchId {lockClause}", new { batchId }, transaction));
            if (batch is null || await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM items WHERE batch_id = @batchId AND status = 'PROCESSING'", new { batchId }, transaction)) > 0)
            {
                continue;
            }

            var done = new CompletedBatch(batch.Id, batch.AccountId, batch.WebhookUrl, time.GetUtcNow());
            foreach (var completion in _completions)
            {
                await completion.BatchCompletedAsync(connection, transaction, done, CancellationToken.None);
            }

            completed = true;
        }

        return completed;
    }

    private sealed class BatchRow
    {
        public string Id { get; init; } = "";
        public string AccountId { get; init; } = "";
        public string? WebhookUrl { get; init; }
    }

    private sealed record Settlement(ClaimedItem Item, string? Owner, string Status, long Charged, string? ResultJson, string? Error, ChargedAddress? ChargedAddress)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
