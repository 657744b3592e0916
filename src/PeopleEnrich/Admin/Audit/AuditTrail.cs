using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Admin.Audit;

/// <summary>One admin command that changed (or tried to change) something: when, who, what, with which arguments, and how it ended.</summary>
public sealed record AuditEntry(DateTimeOffset At, string User, string Command, string Arguments, string Outcome);

/// <summary>
/// The audit trail of admin commands: appended to, listed, never updated or deleted by the program (retention
/// does not touch it). Arguments are stored as <see cref="AuditedArguments"/> masks them: no secret ever lands here.
/// </summary>
public sealed class AuditTrail(Database database, TimeProvider time)
{
    public async Task RecordAsync(string command, IReadOnlyList<string> arguments, string outcome, CancellationToken cancellationToken)
    {
        await database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO audit_entries (at, os_user, command, arguments, outcome) VALUES (@at, @user, @command, @arguments, @outcome)",
            new { at = time.GetUtcNow().ToUnixTimeMilliseconds(), user = WhoRuns(), command, arguments = AuditedArguments.Mask(arguments), outcome },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>The newest entries first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long At, string User, string Command, string Arguments, string Outcome)>(new CommandDefinition(
            "SELECT at, os_user, command, arguments, outcome FROM audit_entries ORDER BY at DESC, id DESC LIMIT @limit",
            new { limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.User, r.Command, r.Arguments, r.Outcome)).ToList();
    }

    /// <summary>The operating-system user who ran the command (sudo's caller when run through sudo).</summary>
    private static string WhoRuns()
    {
        var user = Environment.UserName;
        return Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } caller && caller != user ? $"{caller} (as {user})" : user;
    }
}
