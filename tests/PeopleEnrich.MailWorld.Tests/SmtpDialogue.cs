using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace PeopleEnrich.MailWorld.Tests;

/// <summary>A raw SMTP client over TcpClient: sends lines, reads whole (multi-line) replies, every wait bounded.</summary>
internal sealed class SmtpDialogue : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TcpClient _client;
    private Stream _stream;
    private readonly List<byte> _pending = [];

    /// <summary>Every byte read from the server, in order (TLS-decrypted after STARTTLS).</summary>
    public List<byte> Received { get; } = [];

    private SmtpDialogue(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Connects, from <paramref name="from"/> when given (any 127.x.y.z is this machine's, so a test can be another client).</summary>
    public static async Task<SmtpDialogue> ConnectAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        if (from is not null) client.Client.Bind(new IPEndPoint(from, 0));
        using var cts = new CancellationTokenSource(Wait);
        await client.ConnectAsync(endPoint, cts.Token);
        return new SmtpDialogue(client);
    }

    /// <summary>Connects and reads the greeting.</summary>
    public static async Task<(SmtpDialogue Dialogue, Reply Greeting)> OpenAsync(IPEndPoint endPoint, IPAddress? from = null)
    {
        var d = await ConnectAsync(endPoint, from);
        return (d, await d.ReadReplyAsync());
    }

    /// <summary>Connects (from <paramref name="from"/> when given), then greeting, EHLO and MAIL FROM, each asserted accepted: ready for RCPT.</summary>
    public static async Task<SmtpDialogue> OpenForRcptAsync(IPEndPoint endPoint, IPAddress? from = null, string sender = "a@b.example")
    {
        var (d, greeting) = await OpenAsync(endPoint, from);
        Assert.Equal(220, greeting.Code);
        Assert.Equal(250, (await d.SendAsync("EHLO me")).Code);
        Assert.Equal(250, (await d.SendAsync($"MAIL FROM:<{sender}>")).Code);
        return d;
    }

    public async Task<Reply> SendAsync(string line)
    {
        await SendRawAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    public async Task SendRawAsync(string text)
    {
        using var cts = new CancellationTokenSource(Wait);
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(text), cts.Token);
        await _stream.FlushAsync(cts.Token);
    }

    public async Task<Reply> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException($"The server closed the connection after: {string.Join(" | ", lines)}");
            lines.Add(line);
            if (line.Length < 4 || line[3] == ' ') return new Reply(lines);
        }
    }

    /// <summary>
    /// True when the server sends nothing for that long (the read still waiting then is abandoned, so the dialogue can
    /// only be disposed after a true); false when a line or the close comes sooner.
    /// </summary>
    public async Task<bool> SilentForAsync(TimeSpan time)
    {
        var read = ReadLineAsync();
        return await Task.WhenAny(read, Task.Delay(time)) != read;
    }

    /// <summary>True when the server closes the connection (reads nothing more) within the bounded wait.</summary>
    public async Task<bool> ClosedByServerAsync() => await ReadLineAsync() is null;

    public async Task StartTlsAsync()
    {
        var ssl = new SslStream(_stream, false, (_, _, _, _) => true);
        using var cts = new CancellationTokenSource(Wait);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mailworld" }, cts.Token);
        _stream = ssl;
        _pending.Clear();
    }

    public SslStream? Tls => _stream as SslStream;

    private async Task<string?> ReadLineAsync()
    {
        var buffer = new byte[1024];
        while (true)
        {
            var nl = _pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var line = Encoding.ASCII.GetString(_pending.GetRange(0, nl + 1).ToArray());
                _pending.RemoveRange(0, nl + 1);
                return line.TrimEnd('\r', '\n');
            }
            using var cts = new CancellationTokenSource(Wait);
            int n;
            try { n = await _stream.ReadAsync(buffer, cts.Token); }
            catch (IOException) { return null; }
            if (n == 0) return null;
            _pending.AddRange(buffer.AsSpan(0, n));
            Received.AddRange(buffer.AsSpan(0, n));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}

internal sealed record Reply(IReadOnlyList<string> Lines)
{
    public int Code => int.Parse(Lines[^1][..3], System.Globalization.CultureInfo.InvariantCulture);
    public string Last => Lines[^1];
    public override string ToString() => string.Join("\n", Lines);
}
