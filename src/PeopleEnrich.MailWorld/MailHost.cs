using System.Net;

namespace PeopleEnrich.MailWorld;

/// <summary>A mail server of the world: one host name, one address, one SMTP listener (when the address is loopback).</summary>
public sealed class MailHost
{
    private int _sessions, _active, _rcpts, _data;
    private readonly List<SessionRecord> _log = [];

    internal MailHost(string name, IPAddress address, bool listening, bool refusesConnections, DomainDescription owner)
    {
        Name = name;
        Address = address;
        Listening = listening;
        RefusesConnections = refusesConnections;
        Owner = owner;
    }

    /// <summary>Host name, lower case, without a trailing dot (e.g. "mx1.acme.test").</summary>
    public string Name { get; }

    /// <summary>What DNS answers for the host's A record: its 127.0.0.x, or the domain's mx_address.</summary>
    public IPAddress Address { get; }

    /// <summary>False for hosts whose address is not ours to bind (mx_address), and for those that refuse connections: nothing listens for them.</summary>
    public bool Listening { get; }

    /// <summary>
    /// The host's address is a 127.0.0.x of its own where nothing listens (refuse_connections): a connection to it at
    /// <see cref="MailWorld.SmtpPort"/> is refused. The port is held there (bound, never listening) so that no other
    /// program can answer in its place.
    /// </summary>
    public bool RefusesConnections { get; }

    /// <summary>Where the host's SMTP server listens; null when not <see cref="Listening"/>.</summary>
    public IPEndPoint? EndPoint { get; internal set; }

    /// <summary>The domain whose settings (behaviour, delays, STARTTLS) this host follows: the first one listing it.</summary>
    public DomainDescription Owner { get; }

    public Behaviour Behaviour => Owner.Behaviour;

    /// <summary>Domains whose mail this host accepts (every domain listing it as MX, or the domain itself for an implicit MX).</summary>
    public IReadOnlyList<string> Domains => _domains;

    internal readonly List<string> _domains = [];

    public Transcript Transcript { get; } = new();

    /// <summary>Connections accepted, including those refused with 421/554 at connect.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Sessions open right now.</summary>
    public int ActiveSessions => Volatile.Read(ref _active);

    /// <summary>Every session accepted, in order, with its times and counts, until <see cref="MailWorld.ResetObservations"/>.</summary>
    public IReadOnlyList<SessionRecord> SessionLog
    {
        get { lock (_log) return _log.ToArray(); }
    }

    /// <summary>The most sessions open at once in <see cref="SessionLog"/> (0 when it is empty).</summary>
    public int PeakActiveSessions => SessionLog.Select(s => s.ActiveAtStart).DefaultIfEmpty(0).Max();

    /// <summary>RCPT commands received (whatever was answered).</summary>
    public int RcptCommands => Volatile.Read(ref _rcpts);

    /// <summary>DATA or BDAT commands received: always refused, always a violation.</summary>
    public int DataAttempts => Volatile.Read(ref _data);

    /// <summary>Counts a new session and logs it; the record says how many were open with it.</summary>
    internal SessionRecord NewSession(long id, IPAddress client, DateTimeOffset at)
    {
        Interlocked.Increment(ref _sessions);
        var record = new SessionRecord(id, client, at, Interlocked.Increment(ref _active));
        lock (_log) _log.Add(record);
        return record;
    }

    /// <summary>Ends the record before the session stops counting as active, so that a test waiting for no active session finds it ended.</summary>
    internal void EndSession(SessionRecord record, DateTimeOffset at)
    {
        record.End(at);
        Interlocked.Decrement(ref _active);
    }

    internal void CountRcpt(SessionRecord session)
    {
        Interlocked.Increment(ref _rcpts);
        session.CountRcpt();
    }

    internal void CountData() => Interlocked.Increment(ref _data);

    internal void ResetCounters()
    {
        Interlocked.Exchange(ref _sessions, 0);
        Interlocked.Exchange(ref _rcpts, 0);
        lock (_log) _log.Clear();
        Transcript.Clear();
    }

    public override string ToString() => EndPoint is null ? $"{Name} {Address} (not listening)" : $"{Name} {EndPoint} ({Owner.Behaviour})";
}
