using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Knowledge;

/// <summary>The standing of mail hosts in the database, so that every process sharing it honours a block or a dead host at once.</summary>
public sealed class MailHostMemory(Database database, TimeProvider time) : IMailHostMemory
{
    public async Task<HostStanding?> StandingAsync(string host, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(long RefusedUs, string Why, long UntilAt)?>(new CommandDefinition(
            "SELECT refused_us, why, until_at FROM mail_host_standing WHERE host = @host AND until_at > @now",
            new { host = host.ToLowerInvariant(), now = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return row is { } found ? new HostStanding(found.RefusedUs == 1, found.Why, DateTimeOffset.FromUnixTimeMilliseconds(found.UntilAt)) : null;
    }

    /// <remarks>A refusal is never shortened by a later "unreachable": the longer, graver standing stays.</remarks>
    public Task RememberAsync(string host, HostStanding standing, CancellationToken cancellationToken) =>
        database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO mail_host_standing (host, refused_us, why, until_at) VALUES (@host, @refused, @why, @until)
            ON CONFLICT (host) DO UPDATE SET refused_us = excluded.refused_us, why = excluded.why, until_at = excluded.until_at
            WHERE mail_host_standing.until_at < excluded.until_at OR mail_host_standing.refused_us <= excluded.refused_us
            """, new { host = host.ToLowerInvariant(), refused = standing.RefusedUs ? 1 : 0, why = standing.Why, until = standing.Until.ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
}
