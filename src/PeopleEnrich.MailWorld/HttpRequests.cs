using System.Collections.Concurrent;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// One HTTP request a website received. <see cref="Host"/> is the Host header without its port, lower case;
/// <see cref="Path"/> includes the query; <see cref="BytesSent"/> counts the body bytes handed to the connection
/// before the response ended or the client went away (so far, while the request is still being answered).
/// </summary>
public sealed record HttpRequestRecord(string Host, string Scheme, string Path, int Status, long BytesSent, string? UserAgent);

/// <summary>Every request the websites received, in arrival order, and how many are being answered right now.</summary>
internal sealed class HttpRequestLog
{
    private readonly ConcurrentQueue<Exchange> _exchanges = new();
    private int _active;
    private TaskCompletionSource _idle = NewSignal();

    public IReadOnlyList<HttpRequestRecord> Records => _exchanges.Select(e => e.ToRecord()).ToArray();

    public int Count => _exchanges.Count;

    public int Active => Volatile.Read(ref _active);

    public Exchange Begin(string host, string scheme, string path, string? userAgent)
    {
        Interlocked.Increment(ref _active);
        var exchange = new Exchange(host, scheme, path, userAgent);
        _exchanges.Enqueue(exchange);
        return exchange;
    }

    public void End()
    {
        if (Interlocked.Decrement(ref _active) == 0) Interlocked.Exchange(ref _idle, NewSignal()).TrySetResult();
    }

    public async Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // The signal is read before the count: an End between the two completes the signal read.
            var signal = Volatile.Read(ref _idle);
            if (Active == 0) return;
            await signal.Task.WaitAsync(cancellationToken);
        }
    }

    public void Clear() => _exchanges.Clear();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A request being answered: its status and byte count change until it ends.</summary>
    internal sealed class Exchange(string host, string scheme, string path, string? userAgent)
    {
        private int _status;
        private long _bytesSent;

        public int Status { get => Volatile.Read(ref _status); set => Volatile.Write(ref _status, value); }

        public void Sent(int bytes) => Interlocked.Add(ref _bytesSent, bytes);

        public HttpRequestRecord ToRecord() => new(host, scheme, path, Status, Interlocked.Read(ref _bytesSent), userAgent);
    }
}
