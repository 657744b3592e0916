using System.Globalization;
using Microsoft.Extensions.Options;
using PeopleEnrich.Cluster;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// How many RCPT commands this deployment's outgoing address may send, all processes together:
/// <see cref="SmtpOptions.MaxRcptPerMinute"/> in any minute and <see cref="SmtpOptions.MaxRcptPerDay"/> in any day.
/// Each RCPT spends one unit before it is sent; when the budget is spent nothing more is asked, and the people
/// waiting are put off with a failure that says so.
/// </summary>
public sealed class SendingBudget(ClusterBudget budget, IOptions<SmtpOptions> options)
{
    private const string Name = "smtp-rcpt";

    /// <summary>Spends one RCPT; the failure to report when the budget is spent.</summary>
    public async Task<SessionFailure?> TakeRcptAsync(CancellationToken cancellationToken) =>
        Limits() is { Count: > 0 } limits ? Spent(await budget.TryTakeAsync(Name, limits, cancellationToken)) : null;

    /// <summary>Whether the budget is spent now (before a session is opened for nothing), spending nothing.</summary>
    public async Task<SessionFailure?> SpentAsync(CancellationToken cancellationToken) =>
        Limits() is { Count: > 0 } limits ? Spent(await budget.CheckAsync(Name, limits, cancellationToken)) : null;

    private List<BudgetLimit> Limits()
    {
        var settings = options.Value;
        var limits = new List<BudgetLimit>(2);
        if (settings.MaxRcptPerMinute > 0)
        {
            limits.Add(new BudgetLimit(settings.MaxRcptPerMinute, TimeSpan.FromMinutes(1)));
        }

        if (settings.MaxRcptPerDay > 0)
        {
            limits.Add(new BudgetLimit(settings.MaxRcptPerDay, TimeSpan.FromDays(1)));
        }

        return limits;
    }

    private static SessionFailure? Spent(BudgetAnswer answer)
    {
        if (answer.Taken || answer.Limit is not { } limit)
        {
            return null;
        }

        var (per, key) = limit.Window >= TimeSpan.FromDays(1) ? ("day", "Smtp:MaxRcptPerDay") : ("minute", "Smtp:MaxRcptPerMinute");
        var seconds = Math.Ceiling(answer.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        return new SessionFailure($"the sending budget of {limit.Max} RCPT commands a {per} was reached ({key}); probing resumes in about {seconds} s", Temporary: true)
        {
            BudgetSpent = true,
        };
    }
}
