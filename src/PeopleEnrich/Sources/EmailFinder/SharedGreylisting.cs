using System.Data.Common;
using Dapper;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Sources.EmailFinder;

/// <summary>
/// What the finder learns of a greylisting domain, shared through the database by every process on it
/// (<c>greylist_rounds</c>, <c>greylist_planted</c>): a person put off for greylisting goes back to the queue, and any
/// process may claim their retry. Without this, that process would not know when the domain's rounds began (its people
/// would come back on a schedule of its own, each retry spent out of step), the domain's delay, which of the person's
/// candidates were planted (asked again first, one RCPT instead of two for a new one), whether the round is being
/// answered, or which shapes the round's people planted elsewhere.
/// </summary>
/// <remarks>
/// Read only for a person coming back to a greylisting domain, written only when a person's session there was deferred
/// or was a retry: ordinary domains never touch these tables. Each process keeps its own memory
/// (<see cref="GreylistSchedules"/>, <see cref="DomainPlantings"/>) and adds the others' to it; one process alone
/// reads back only what it wrote, and behaves as without the database. A database that fails costs only the sharing:
/// the process goes on with its own memory.
/// </remarks>
public sealed class SharedGreylisting(
    Database database, GreylistSchedules schedules, DomainPlantings plantings, TimeProvider time, ILogger<SharedGreylisting> logger)
{
    // The process's life, on the plantings it shares: its own are in its memory already.
    private readonly string _member = Guid.NewGuid().ToString("N");

    // The rounds this process last wrote, per domain: a round's hundred people would otherwise each rewrite the one row.
    private readonly Dictionary<string, GreylistRound> _written = new(StringComparer.OrdinalIgnoreCase);
    private const int MaxWritten = 10_000;

    /// <summary>Before the walk of a person coming back to the domain: what every process heard there, added to this process's memory.</summary>
    public async Task LoadAsync(string domain, IEnumerable<string> recipients, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var round = await connection.QuerySingleOrDefaultAsync<RoundRow>(new CommandDefinition(
                "SELECT first_at AS FirstAt, last_at AS LastAt, delay_ms AS DelayMs, answering_at AS AnsweringAt FROM greylist_rounds WHERE domain = @domain",
                new { domain = Key(domain) }, cancellationToken: cancellationToken));
            var planted = await connection.QueryAsync<(string Address, long PlantedAt)>(new CommandDefinition(
                $"SELECT address, planted_at FROM greylist_planted WHERE address {database.InAny("addresses")}",
                new { addresses = recipients.Select(Key).Distinct().ToArray() }, cancellationToken: cancellationToken));
            schedules.Merge(domain, round?.ToRound(), planted.Select(p => (p.Address, DateTimeOffset.FromUnixTimeMilliseconds(p.PlantedAt))));

            // A planting counts for the round while it lasts (the domain's delay, once known: hence after the merge).
            var since = time.GetUtcNow() - plantings.LastsAt(domain);
            var elsewhere = await connection.QueryAsync<(string Shape, long DeferredAt)>(new CommandDefinition(
                "SELECT shape, deferred_at FROM greylist_planted WHERE domain = @domain AND member <> @member AND shape IS NOT NULL AND deferred_at > @since",
                new { domain = Key(domain), member = _member, since = since.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
            plantings.Of(domain).PlantedElsewhere(elsewhere.Select(p => (p.Shape, DateTimeOffset.FromUnixTimeMilliseconds(p.DeferredAt))));
        }
        catch (DbException exception)
        {
            logger.LogWarning(exception, "Could not read what other processes heard at {Domain} (greylisting); going on with this process's own", domain);
        }
    }

    /// <summary>
    /// After a person's session at the domain, when it was deferred or was a retry: the domain's rounds as this process
    /// now knows them, and each recipient deferred (planted) with its shape.
    /// </summary>
    public async Task SaveAsync(string domain, PersonProbeResult report, IReadOnlyDictionary<string, string?> shapes, CancellationToken cancellationToken)
    {
        var round = schedules.RoundOf(domain) is { } known && Changed(domain, known) ? known : null;
        var deferred = report.Deferred.OrderBy(r => r.Address, StringComparer.OrdinalIgnoreCase).ToList(); // one order for every process: no two transactions lock the same rows the other way round
        if (round is null && deferred.Count == 0)
        {
            return;
        }

        var forgotten = (time.GetUtcNow() - schedules.KeptFor).ToUnixTimeMilliseconds();
        try
        {
            await database.InTransactionAsync(async (connection, transaction) =>
            {
                if (round is not null)
                {
                    await connection.ExecuteAsync(new CommandDefinition(UpsertRound, new
                    {
                        domain = Key(domain),
                        first = round.First.ToUnixTimeMilliseconds(),
                        last = round.Last.ToUnixTimeMilliseconds(),
                        delay = (long?)round.Delay?.TotalMilliseconds,
                        answering = round.Answering?.ToUnixTimeMilliseconds(),
                        ended = (long)schedules.RoundsEndAfter.TotalMilliseconds,
                    }, transaction, cancellationToken: cancellationToken));
                }

                foreach (var recipient in deferred)
                {
                    await connection.ExecuteAsync(new CommandDefinition(UpsertPlanted, new
                    {
                        address = Key(recipient.Address),
                        domain = Key(domain),
                        shape = shapes.GetValueOrDefault(recipient.Address),
                        at = recipient.At.ToUnixTimeMilliseconds(),
                        member = _member,
                        forgotten,
                    }, transaction, cancellationToken: cancellationToken));
                }

                return 0;
            }, cancellationToken, durable: false);
        }
        catch (Exception exception)
        {
            lock (_written)
            {
                _written.Remove(domain); // not written after all (a failure, a cancellation): the next person's session tries again
            }

            if (exception is not DbException)
            {
                throw;
            }

            logger.LogWarning(exception, "Could not share what was heard at {Domain} (greylisting) with other processes", domain);
        }
    }

    /// <summary>
    /// Whether the domain's rounds are worth writing again: they began, or their delay or first answer changed, since this
    /// process last wrote them, or their latest deferral moved on by a tenth of the time after which rounds end (what the
    /// latest deferral is read for; a tenth late there is immaterial). Recorded as written.
    /// </summary>
    private bool Changed(string domain, GreylistRound round)
    {
        var enough = schedules.RoundsEndAfter / 10;
        lock (_written)
        {
            if (_written.TryGetValue(domain, out var written) && written.First == round.First && written.Delay == round.Delay
                && written.Answering == round.Answering && round.Last - written.Last < enough)
            {
                return false;
            }

            if (_written.Count >= MaxWritten)
            {
                _written.Clear();
            }

            _written[domain] = round;
            return true;
        }
    }

    /// <summary>The same rounds keep their first beginning; rounds that began after the stored ones had ended (two longest gaps without a deferral) replace them.</summary>
    private const string UpsertRound = """
        INSERT INTO greylist_rounds (domain, first_at, last_at, delay_ms, answering_at) VALUES (@domain, @first, @last, @delay, @answering)
        ON CONFLICT (domain) DO UPDATE SET
            first_at = CASE WHEN excluded.first_at > greylist_rounds.last_at + @ended OR excluded.first_at < greylist_rounds.first_at
                            THEN excluded.first_at ELSE greylist_rounds.first_at END,
            answering_at = CASE WHEN excluded.first_at > greylist_rounds.last_at + @ended OR greylist_rounds.answering_at IS NULL
                                     OR excluded.answering_at < greylist_rounds.answering_at
                                THEN excluded.answering_at ELSE greylist_rounds.answering_at END,
            last_at = CASE WHEN excluded.last_at > greylist_rounds.last_at THEN excluded.last_at ELSE greylist_rounds.last_at END,
            delay_ms = CASE WHEN greylist_rounds.delay_ms IS NULL OR excluded.delay_ms < greylist_rounds.delay_ms
                            THEN COALESCE(excluded.delay_ms, greylist_rounds.delay_ms) ELSE greylist_rounds.delay_ms END
        """;

    /// <summary>
    /// A recipient keeps its first deferral (it passes the delay after it) and takes the latest one, with who heard it, for
    /// the round's plantings. A first deferral older than <see cref="GreylistSchedules.KeptFor"/> is forgotten (its row
    /// only not swept yet): deferred again, the recipient is planted anew, not at a time every process takes as forgotten.
    /// </summary>
    private const string UpsertPlanted = """
        INSERT INTO greylist_planted (address, domain, shape, planted_at, deferred_at, member) VALUES (@address, @domain, @shape, @at, @at, @member)
        ON CONFLICT (address) DO UPDATE SET
            planted_at = CASE WHEN excluded.planted_at < greylist_planted.planted_at OR greylist_planted.planted_at < @forgotten
                              THEN excluded.planted_at ELSE greylist_planted.planted_at END,
            deferred_at = CASE WHEN excluded.deferred_at > greylist_planted.deferred_at THEN excluded.deferred_at ELSE greylist_planted.deferred_at END,
            member = CASE WHEN excluded.deferred_at > greylist_planted.deferred_at THEN excluded.member ELSE greylist_planted.member END,
            shape = COALESCE(excluded.shape, greylist_planted.shape)
        """;

    private static string Key(string name) => name.ToLowerInvariant();

    private sealed record RoundRow(long FirstAt, long LastAt, long? DelayMs, long? AnsweringAt)
    {
        public GreylistRound ToRound() => new(
            DateTimeOffset.FromUnixTimeMilliseconds(FirstAt), DateTimeOffset.FromUnixTimeMilliseconds(LastAt),
            DelayMs is { } delay ? TimeSpan.FromMilliseconds(delay) : null,
            AnsweringAt is { } answering ? DateTimeOffset.FromUnixTimeMilliseconds(answering) : null);
    }
}
