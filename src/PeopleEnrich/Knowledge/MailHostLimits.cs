using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Knowledge;

/// <summary>Recipient limits of mail hosts in the database (<c>mail_host_limits</c>), under the host's name and its mail service's, so that every process uses a limit learnt once.</summary>
public sealed class MailHostLimits(Database database, TimeProvider time, IOptions<SmtpOptions> options) : IMailHostLimits
{
    public async Task<int?> RecipientLimitAsync(string host, CancellationToken cancellationToken)
    {
        var since = (time.GetUtcNow() - options.Value.HostLimitsTtl).ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT MIN(recipients) FROM mail_host_limits WHERE name IN (@host, @service) AND learnt_at > @since",
            new { host = Name(host), service = MailService.Of(host) ?? Name(host), since }, cancellationToken: cancellationToken));
    }

    /// <remarks>
    /// The latest limit learnt replaces an older one under each name, and a read takes the stricter of the host's and its
    /// service's. Sessions never ask past a limit, so a service that now takes more is found out only when the limit has
    /// passed <see cref="SmtpOptions.HostLimitsTtl"/> and sessions ask as many as they may again.
    /// </remarks>
    public Task RememberRecipientLimitAsync(string host, int recipients, CancellationToken cancellationToken) =>
        database.InTransactionAsync(async (connection, transaction) =>
        {
            foreach (var name in new[] { Name(host), MailService.Of(host) }.OfType<string>().Distinct())
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO mail_host_limits (name, recipients, learnt_at) VALUES (@name, @recipients, @now)
                    ON CONFLICT (name) DO UPDATE SET recipients = excluded.recipients, learnt_at = excluded.learnt_at
                    """, new { name, recipients, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
            }

            return 0;
        }, cancellationToken, durable: false);

    private static string Name(string host) => host.Trim().TrimEnd('.').ToLowerInvariant();
}
