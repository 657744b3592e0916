using System.Text;

namespace PeopleEnrich.MailWorld;

public enum Direction { Received, Sent }

/// <summary>
/// One line as it crossed the wire: <see cref="Raw"/> holds its exact bytes (decoded as Latin-1, so every byte is one
/// char) including the line ending, or without one when the peer closed mid-line. Lines after STARTTLS are recorded
/// decrypted, with <see cref="Tls"/> set.
/// </summary>
public sealed record TranscriptLine(long Session, Direction Direction, string Raw, bool Tls, DateTimeOffset At)
{
    /// <summary>The line without its ending.</summary>
    public string Text => Raw.TrimEnd('\r', '\n');

    public byte[] Bytes => Encoding.Latin1.GetBytes(Raw);

    public override string ToString() => (Direction == Direction.Received ? "C: " : "S: ") + Text;
}

/// <summary>Every line a mail host received and sent, in order; thread-safe.</summary>
public sealed class Transcript
{
    private readonly Lock _gate = new();
    private readonly List<TranscriptLine> _lines = [];

    internal void Add(TranscriptLine line)
    {
        lock (_gate) _lines.Add(line);
    }

    /// <summary>A snapshot of every line so far.</summary>
    public IReadOnlyList<TranscriptLine> Lines
    {
        get { lock (_gate) return _lines.ToArray(); }
    }

    /// <summary>The lines of one session.</summary>
    public IReadOnlyList<TranscriptLine> Session(long session) => Lines.Where(l => l.Session == session).ToArray();

    /// <summary>The RCPT commands the host received, in order.</summary>
    public IReadOnlyList<TranscriptLine> Rcpts =>
        Lines.Where(l => l.Direction == Direction.Received && l.Text.StartsWith("RCPT", StringComparison.Ordinal)).ToArray();

    /// <summary>The session numbers seen, in order.</summary>
    public IReadOnlyList<long> Sessions => Lines.Select(l => l.Session).Distinct().ToArray();

    /// <summary>Exactly what the host received (Direction.Received) or sent, as bytes, in order.</summary>
    public byte[] Wire(Direction direction, long? session = null) =>
        Encoding.Latin1.GetBytes(string.Concat(Lines.Where(l => l.Direction == direction && (session is null || l.Session == session)).Select(l => l.Raw)));

    /// <summary>"C: …" and "S: …" lines, one per wire line.</summary>
    public override string ToString() => string.Join('\n', Lines.Select(l => l.ToString()));

    public void Clear()
    {
        lock (_gate) _lines.Clear();
    }
}
