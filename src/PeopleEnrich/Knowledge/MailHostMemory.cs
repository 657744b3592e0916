using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Smtp;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Knowledge;

/// <summary>The standing of mail hosts in the database, so that every process sharing it honours a block, a dead host or a pause at once.</summary>
public sealed class MailHostMemory(Database database, TimeProvider time, IOptions<SmtpOptions> options) : IMailHostMemory
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<HostStanding?> StandingAsync(string host, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long RefusedUs, string Why, long UntilAt, long SeenAt, long? SinceAt)?>(new CommandDefinition(
            "SELECT refused_us, why, until_at, seen_at, since_at FROM mail_host_standing WHERE host = @host AND until_at > @now",
            new { host = host.ToLowerInvariant(), now = Now }, cancellationToken: cancellationToken));
        return row is { } found
            ? new HostStanding(found.RefusedUs == 1, found.Why, DateTimeOffset.FromUnixTimeMilliseconds(found.UntilAt))
            {
                FailingFor = TimeSpan.FromMilliseconds(found.SeenAt - (found.SinceAt ?? found.SeenAt)),
            }
            : null;
    }

    /// <remarks>
    /// A refusal is never replaced by a later "unreachable": the graver standing stays until it ends. A host failing again
    /// while remembered unreachable keeps the start of its run of failures (<see cref="HostStanding.FailingFor"/>).
    /// </remarks>
    public Task RememberAsync(string host, HostStanding standing, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO mail_host_standing (host, refused_us, why, until_at, seen_at, since_at) VALUES (@host, @refused, @why, @until, @now, @now)
            ON CONFLICT (host) DO UPDATE SET refused_us = excluded.refused_us, why = excluded.why, until_at = excluded.until_at, seen_at = excluded.seen_at,
                since_at = CASE WHEN mail_host_standing.refused_us = 0 AND excluded.refused_us = 0 AND mail_host_standing.until_at > excluded.seen_at
                    THEN COALESCE(mail_host_standing.since_at, mail_host_standing.seen_at) ELSE excluded.since_at END
            WHERE mail_host_standing.refused_us <= excluded.refused_us OR mail_host_standing.until_at <= excluded.seen_at
            """, new { host = host.ToLowerInvariant(), refused = standing.RefusedUs ? 1 : 0, why = standing.Why, until = standing.Until.ToUnixTimeMilliseconds(), now = Now },
            transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task ForgetUnreachableAsync(string host, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM mail_host_standing WHERE host = @host AND refused_us = 0",
            new { host = host.ToLowerInvariant() }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<ProbingPause?> PauseAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var connection = await database.OpenAsync(cancellationToken);
        // Refusals seen within the window before the pause could still be running.
        var since = Now - (long)(settings.BlockListWindow + settings.BlockListPause).TotalMilliseconds;
        var refusals = (await connection.QueryAsync<(string Host, string Why, long SeenAt)>(new CommandDefinition(
            "SELECT host, why, seen_at FROM mail_host_standing WHERE refused_us = 1 AND seen_at >= @since ORDER BY seen_at",
            new { since }, cancellationToken: cancellationToken)))
            .Where(r => ReplyInterpreter.NamesBlockList(r.Why))
            .ToList();
        // The pause starts when the Nth unrelated host within a window refused us, and lasts from then.
        for (var last = refusals.Count - 1; last >= 0; last--)
        {
            var window = refusals.Where(r => r.SeenAt <= refusals[last].SeenAt && r.SeenAt > refusals[last].SeenAt - (long)settings.BlockListWindow.TotalMilliseconds).ToList();
            var unrelated = window.DistinctBy(r => ParentDomain(r.Host)).ToList();
            var until = DateTimeOffset.FromUnixTimeMilliseconds(refusals[last].SeenAt) + settings.BlockListPause;
            if (unrelated.Count >= settings.BlockListPauseHosts && until > time.GetUtcNow())
            {
                return new ProbingPause(
                    $"{unrelated.Count} unrelated mail hosts refused us naming a block list within {settings.BlockListWindow}: {string.Join("; ", unrelated.Select(r => $"{r.Host}: {r.Why}"))}",
                    until);
            }
        }

        return null;
    }

    /// <summary>mx1.acme.com and mx2.acme.com are one organisation: hosts count as unrelated by the name they hang from.</summary>
    private static string ParentDomain(string host)
    {
        var labels = host.Split('.');
        // acme.co.uk, acme.com.au: the registry's label under a country code is part of the suffix.
        var kept = labels.Length >= 3 && PublicSuffixes.IsPublicSuffix($"{labels[^2]}.{labels[^1]}") ? 3 : 2;
        return labels.Length <= kept ? host : string.Join('.', labels[^kept..]);
    }
}
