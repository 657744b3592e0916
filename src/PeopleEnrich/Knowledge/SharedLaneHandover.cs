using System.Data.Common;
using System.Text.Json;
using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Knowledge;

/// <summary>
/// Hands a domain's lane's <see cref="LaneTags"/> over to another process's lane through <c>lane_handovers</c>: written
/// when a lane that heard something ends, read only by a lane that had to wait for the domain's claim. A process never
/// takes over its own lanes' (one process alone behaves as without the database). A database that fails costs only the
/// handover: the lane starts from what its people read of the domain's knowledge, as before.
/// </summary>
public sealed class SharedLaneHandover(Database database, TimeProvider time, ILogger<SharedLaneHandover> logger) : ILaneHandover
{
    /// <summary>
    /// A handover is read within moments of being written (by the lane waiting for the claim it came with); an hour on,
    /// no lane still waits for it, and the row is swept.
    /// </summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromHours(1);

    // The process's life: its own lanes' handovers are not taken over.
    private readonly string _member = Guid.NewGuid().ToString("N");

    public async Task HandOverAsync(string domain, LaneTags tags, CancellationToken cancellationToken)
    {
        var record = new LaneTagsRecord(tags.LastFoundTag, new(tags.FoundByTag), new(tags.RejectedByTag));
        try
        {
            // Losing a handover in a power cut costs a few RCPTs: no need to wait for the disk.
            await database.WriteOnceAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO lane_handovers (domain, tags, handed_at, member) VALUES (@domain, @tags, @at, @member)
                ON CONFLICT (domain) DO UPDATE SET tags = excluded.tags, handed_at = excluded.handed_at, member = excluded.member
                """, new { domain = Key(domain), tags = JsonSerializer.Serialize(record, KnowledgeJsonContext.Default.LaneTagsRecord), at = Now, member = _member },
                transaction, cancellationToken: cancellationToken)), cancellationToken, durable: false);
        }
        catch (DbException exception)
        {
            logger.LogWarning(exception, "Could not hand over what {Domain}'s lane heard to other processes", domain);
        }
    }

    public async Task<LaneTags?> TakeOverAsync(string domain, DateTimeOffset waitingSince, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var json = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT tags FROM lane_handovers WHERE domain = @domain AND handed_at >= @since AND member <> @member",
                new { domain = Key(domain), since = waitingSince.ToUnixTimeMilliseconds(), member = _member }, cancellationToken: cancellationToken));
            return json is not null && JsonSerializer.Deserialize(json, KnowledgeJsonContext.Default.LaneTagsRecord) is { } record
                ? new LaneTags(record.LastFound, record.Found, record.Rejected)
                : null;
        }
        catch (DbException exception)
        {
            logger.LogWarning(exception, "Could not read what another process's lane heard at {Domain}; going on without it", domain);
            return null;
        }
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string Key(string domain) => domain.ToLowerInvariant();
}

internal sealed record LaneTagsRecord(string? LastFound, Dictionary<string, int> Found, Dictionary<string, int> Rejected);
