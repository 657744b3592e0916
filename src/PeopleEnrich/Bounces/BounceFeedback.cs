using PeopleEnrich.Credits;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Cache;

namespace PeopleEnrich.Bounces;

/// <summary>One reported address, normalised: when it bounced (when reported, if not said) and the reply, as the caller gave it.</summary>
public sealed record ReportedAddress(string Email, DateTimeOffset? BouncedAt, string? Reply);

/// <summary>What a report did for one address: refunded or not, and why, with the request whose charge it concerns.</summary>
public sealed record BounceVerdict(string Email, bool Refunded, string Reason, string? RequestId);

/// <summary>
/// Bounce feedback: an address a caller reports bouncing is refunded to that caller once if it was charged to them within
/// <see cref="BounceOptions.RefundWindow"/>, and is evidence for everyone: INVALID from then on in its domain's knowledge (no
/// longer support of the domain's pattern), and the cached answers holding it are forgotten. A reply that shows no bounce
/// (a temporary failure, a refusal by policy) changes nothing.
/// </summary>
public sealed class BounceFeedback(BouncedAddresses bounced, ResultsCache cache, BounceRefunds refunds, TimeProvider time, ILogger<BounceFeedback> logger)
{
    public async Task<IReadOnlyList<BounceVerdict>> ReportAsync(string accountId, IReadOnlyList<ReportedAddress> addresses, CancellationToken cancellationToken)
    {
        var verdicts = new List<BounceVerdict>(addresses.Count);
        foreach (var address in addresses)
        {
            verdicts.Add(await ReportAsync(accountId, address, cancellationToken));
        }

        // Counts only: the addresses are personal data, and logs are kept longer and more widely than the tables.
        logger.LogInformation("Account {Account} reported bounced addresses: {Count} reported, {Refunded} refunded, {NotRefunded} not refunded",
            accountId, verdicts.Count, verdicts.Count(v => v.Refunded), verdicts.Count(v => !v.Refunded));
        return verdicts;
    }

    private async Task<BounceVerdict> ReportAsync(string accountId, ReportedAddress address, CancellationToken cancellationToken)
    {
        var (kind, codes) = BounceReply.Read(address.Reply);
        switch (kind)
        {
            case BounceKind.Temporary:
                return new BounceVerdict(address.Email, false, $"not a bounce: the reply ({codes}) is a temporary failure, the mailbox may exist; nothing refunded, the address is not marked", null);
            case BounceKind.Policy:
                return new BounceVerdict(address.Email, false, $"not a bounce of the address: the reply ({codes}) is a refusal by policy, which says nothing of the mailbox; nothing refunded, the address is not marked", null);
        }

        await bounced.RecordAsync(address.Email, address.BouncedAt ?? time.GetUtcNow(), codes, cancellationToken);
        await cache.ForgetHoldingAsync(address.Email, cancellationToken);
        var days = (int)Math.Round(refunds.Window.TotalDays);
        return await refunds.RefundAsync(accountId, address.Email, cancellationToken) switch
        {
            RefundOutcome.Refunded refunded => new BounceVerdict(address.Email, true,
                $"refunded {refunded.Credits} credit{(refunded.Credits == 1 ? "" : "s")}: charged for this address by request {refunded.RequestId}", refunded.RequestId),
            RefundOutcome.AlreadyRefunded already => new BounceVerdict(address.Email, false, $"already refunded (request {already.RequestId})", already.RequestId),
            RefundOutcome.TooOld old => new BounceVerdict(address.Email, false, $"charged more than {days} days ago (request {old.RequestId}): past the refund window", old.RequestId),
            _ => new BounceVerdict(address.Email, false, $"never charged to this account in the last {days} days: nothing to refund", null),
        };
    }
}
