using System.Net;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// One SMTP session at a host, as its session log keeps it: who connected, when it began and ended, how many sessions
/// the host had open when it began (itself included), and its RCPT commands and errors. Updated while the session runs;
/// thread-safe.
/// </summary>
public sealed class SessionRecord
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _ended;
    private int _rcpts, _errors;

    internal SessionRecord(long id, IPAddress client, DateTimeOffset started, int activeAtStart) =>
        (Id, Client, Started, ActiveAtStart) = (id, client, started, activeAtStart);

    /// <summary>The session number, as in <see cref="TranscriptLine.Session"/>.</summary>
    public long Id { get; }

    /// <summary>The client's address, as the host saw it.</summary>
    public IPAddress Client { get; }

    /// <summary>When the connection was accepted, on the world's clock (<see cref="MailWorld.Time"/>).</summary>
    public DateTimeOffset Started { get; }

    /// <summary>When the session ended (either side closed, or the world stopped); null while it is open.</summary>
    public DateTimeOffset? Ended
    {
        get { lock (_gate) return _ended; }
    }

    /// <summary>
    /// Sessions open at the host when this one was accepted, this one included. Counted, not read from the times, so it
    /// is exact even when two sessions start and end in the same clock tick (or on a frozen FakeTimeProvider).
    /// </summary>
    public int ActiveAtStart { get; }

    /// <summary>RCPT commands received in this session, whatever was answered.</summary>
    public int RcptCommands => Volatile.Read(ref _rcpts);

    /// <summary>
    /// Commands answered with a 4xx or 5xx reply, rejected recipients included: the count Postfix's error limits are
    /// about (see <see cref="ErrorLimits"/>); counted whether or not the host has them.
    /// </summary>
    public int Errors => Volatile.Read(ref _errors);

    internal void CountRcpt() => Interlocked.Increment(ref _rcpts);

    internal int CountError() => Interlocked.Increment(ref _errors);

    internal void End(DateTimeOffset at)
    {
        lock (_gate) _ended ??= at;
    }

    public override string ToString() =>
        $"#{Id} {Client} {Started:O}..{(Ended is { } e ? e.ToString("O") : "open")} active={ActiveAtStart} rcpt={RcptCommands} errors={Errors}";
}
