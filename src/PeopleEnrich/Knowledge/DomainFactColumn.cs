using System.Collections.Concurrent;
using System.Globalization;
using Dapper;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Knowledge;

/// <summary>
/// One fact of <c>domain_knowledge</c> (a column and its "<c>_at</c>" time of verification), written only
/// when this process has not just written the same value: every person of a domain observes the same
/// routing and the same catch-all answer. A value is rewritten when it changes, or after
/// <see cref="Refresh"/> so that its time of verification moves on. The memory is bounded; forgetting
/// only costs a rewrite.
/// </summary>
/// <remarks>A column may have a companion (<paramref name="evidenceColumn"/>) holding what the value was seen on, written with it.</remarks>
internal sealed class DomainFactColumn(string column, Database database, TimeProvider time, string? evidenceColumn = null)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromHours(1);
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<string, (string Value, DateTimeOffset At)> _written = new(StringComparer.OrdinalIgnoreCase);

    public async Task WriteAsync(string domain, object value, string? evidence, CancellationToken cancellationToken)
    {
        var remembered = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        var now = time.GetUtcNow();
        if (_written.TryGetValue(domain, out var last) && last.Value == remembered && now - last.At < Refresh)
        {
            return;
        }

        // Losing a fact in a power cut costs one more lookup: no need to wait for the disk.
        var (extraColumn, extraValue, extraUpdate) = evidenceColumn is null ? ("", "", "") : ($", {evidenceColumn}", ", @evidence", $", {evidenceColumn} = excluded.{evidenceColumn}");
        await database.InTransactionAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO domain_knowledge (domain, {column}, {column}_at{extraColumn}) VALUES (@domain, @value, @at{extraValue})
            ON CONFLICT (domain) DO UPDATE SET {column} = excluded.{column}, {column}_at = excluded.{column}_at{extraUpdate}
            """, new { domain, value, at = now.ToUnixTimeMilliseconds(), evidence }, transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
        if (_written.Count >= MaxRemembered)
        {
            _written.Clear();
        }

        _written[domain] = (remembered, now);
    }
}
