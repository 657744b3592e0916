using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// One SMTP session, written over raw sockets rather than with the SmtpServer package: SmtpServer cannot refuse a
/// connection with a custom reply (421 busy, 554 policy block) or delay the banner (tarpit), it answers DATA with
/// 354 before any hook can refuse it (the world must never accept DATA), it puts no delay before each reply, and it
/// gives no access to the exact bytes on the wire that the transcripts must record.
/// </summary>
internal sealed partial class SmtpSession
{
    private const int MaxLine = 4096;
    private static readonly string TooLong = new('\0', 1);
    private bool _tooLong;
    private readonly MailWorld _world;
    private readonly MailHost _host;
    private readonly TcpClient _client;
    private readonly long _id;
    private readonly IPAddress _clientAddress;
    private readonly string _clientIp;
    private readonly DomainDescription _settings;
    private Stream _stream;
    private bool _tls;
    private readonly byte[] _buffer = new byte[MaxLine * 2];
    private int _start, _end;

    private string? _helo;
    private string? _mailFrom;
    private readonly List<string> _recipients = [];
    private int _sessionRcpts;
    private SessionRecord _record = null!; // set first thing in RunAsync
    private readonly ErrorLimits? _limits;
    private int _lastCode;

    public SmtpSession(MailWorld world, MailHost host, TcpClient client, long id)
    {
        _world = world;
        _host = host;
        _client = client;
        _id = id;
        _settings = host.Owner;
        _limits = _settings.EffectiveErrorLimits;
        _clientAddress = ((IPEndPoint)client.Client.RemoteEndPoint!).Address;
        _clientIp = _clientAddress.ToString();
        _stream = client.GetStream();
    }

    public async Task RunAsync(CancellationToken stop)
    {
        _record = _host.NewSession(_id, _clientAddress, _world.Time.GetUtcNow());
        try
        {
            await DialogueAsync(_record.ActiveAtStart, stop);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            // The client went away, the world stopped, or the TLS handshake failed: the session just ends.
        }
        finally
        {
            // Ended before the connection closes: a client that sees the close finds the session ended in the log.
            _host.EndSession(_record, _world.Time.GetUtcNow());
            await _stream.DisposeAsync();
            _client.Dispose();
        }
    }

    private async Task DialogueAsync(int active, CancellationToken stop)
    {
        if (_settings.Behaviour == Behaviour.Busy && active > _settings.MaxSessions)
        {
            await ReplyAsync(stop, "421 4.7.0 Too many connections, try again later");
            return;
        }
        if (_settings.Behaviour == Behaviour.Tarpit)
            await Task.Delay(_settings.TarpitMs, stop);
        if (_settings.Behaviour == Behaviour.PolicyBlock && _settings.BlockAt == BlockAt.Connect)
        {
            // RFC 5321 §3.1: after a 554 greeting the server waits for QUIT and answers 503 to everything else.
            await ReplyAsync(stop, $"554 5.7.1 Service unavailable; Client host [{_clientIp}] blocked using zen.spamhaus.org");
            while (await ReadLineAsync(stop) is { } blocked)
            {
                _lastCode = 0;
                if (Verb(blocked) == "QUIT") { await ReplyAsync(stop, "221 2.0.0 Bye"); return; }
                await ReplyAsync(stop, "503 5.5.1 No SMTP service here");
                if (!await CountErrorAsync(stop)) return;
            }
            return;
        }
        await ReplyAsync(stop, $"220 {_host.Name} ESMTP MailWorld");
        while (await ReadLineAsync(stop) is { } line)
        {
            _lastCode = 0;
            if (!await HandleAsync(line, stop)) return;
            if (!await CountErrorAsync(stop)) return;
        }
    }

    /// <summary>
    /// Counts the command just answered as an error when its reply was 4xx or 5xx, as Postfix's smtpd does (any command
    /// whose handler fails: a rejected recipient, a refused sender, an unknown command, bad syntax). With error limits,
    /// reaching the hard limit answers 421 at once, without waiting for another command, and ends the session (false).
    /// </summary>
    private async Task<bool> CountErrorAsync(CancellationToken stop)
    {
        if (_lastCode < 400) return true;
        var errors = _record.CountError();
        if (_limits is null || errors < _limits.HardErrorLimit) return true;
        await ReplyAsync(stop, $"421 4.7.0 {_host.Name} Error: too many errors");
        return false;
    }

    /// <summary>Answers one command line; false ends the session.</summary>
    private async Task<bool> HandleAsync(string line, CancellationToken stop)
    {
        if (ReferenceEquals(line, TooLong))
        {
            await ReplyAsync(stop, "500 5.5.2 Line too long");
            return true;
        }
        var text = line.TrimEnd('\r', '\n');
        var verb = Verb(text);
        var arg = text.Length > verb.Length ? text[verb.Length..].Trim() : "";
        switch (verb)
        {
            case "HELO":
                if (arg.Length == 0) { await ReplyAsync(stop, "501 5.5.4 Syntax: HELO hostname"); break; }
                _helo = arg; ResetTransaction();
                await ReplyAsync(stop, $"250 {_host.Name}");
                break;
            case "EHLO":
                if (arg.Length == 0) { await ReplyAsync(stop, "501 5.5.4 Syntax: EHLO hostname"); break; }
                _helo = arg; ResetTransaction();
                var caps = new List<string> { $"{_host.Name} Hello {arg} [{_clientIp}]", "PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "8BITMIME" };
                if (_settings.Starttls != StartTls.None && !_tls) caps.Add("STARTTLS");
                caps.Add("SMTPUTF8");
                await ReplyAsync(stop, caps.Select((c, i) => (i == caps.Count - 1 ? "250 " : "250-") + c).ToArray());
                break;
            case "STARTTLS":
                if (_settings.Starttls == StartTls.None) { await ReplyAsync(stop, "502 5.5.1 STARTTLS not supported"); break; }
                if (_tls) { await ReplyAsync(stop, "503 5.5.1 TLS already active"); break; }
                if (arg.Length > 0) { await ReplyAsync(stop, "501 5.5.4 Syntax: STARTTLS"); break; }
                await ReplyAsync(stop, "220 2.0.0 Ready to start TLS");
                var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
                using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    handshake.CancelAfter(TimeSpan.FromSeconds(30));
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _world.Certificate }, handshake.Token);
                }
                _stream = ssl;
                _tls = true;
                _start = _end = 0; // RFC 3207: anything pipelined after STARTTLS is discarded
                _helo = null; ResetTransaction();
                break;
            case "MAIL":
                await MailAsync(arg, stop);
                break;
            case "RCPT":
                await RcptAsync(arg, stop);
                break;
            case "DATA":
            case "BDAT":
                _world.RecordDataAttempt(_host, _clientIp, text);
                await ReplyAsync(stop, "554 5.5.1 DATA not allowed in this world");
                break;
            case "RSET":
                ResetTransaction();
                await ReplyAsync(stop, "250 2.0.0 Ok");
                break;
            case "NOOP":
                await ReplyAsync(stop, "250 2.0.0 Ok");
                break;
            case "VRFY":
                await ReplyAsync(stop, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
                break;
            case "HELP":
                await ReplyAsync(stop, "214 2.0.0 Commands: HELO EHLO STARTTLS MAIL RCPT RSET NOOP VRFY QUIT");
                break;
            case "QUIT":
                await ReplyAsync(stop, "221 2.0.0 Bye");
                return false;
            case "":
                await ReplyAsync(stop, "500 5.5.2 Error: bad syntax");
                break;
            default:
                await ReplyAsync(stop, "502 5.5.2 Error: command not recognized");
                break;
        }
        return true;
    }

    private async Task MailAsync(string arg, CancellationToken stop)
    {
        if (_helo is null) { await ReplyAsync(stop, "503 5.5.1 Error: send HELO/EHLO first"); return; }
        if (_settings.Starttls == StartTls.Required && !_tls) { await ReplyAsync(stop, "530 5.7.0 Must issue a STARTTLS command first"); return; }
        if (_mailFrom is not null) { await ReplyAsync(stop, "503 5.5.1 Error: nested MAIL command"); return; }
        var m = MailFromPattern().Match(arg);
        if (!m.Success) { await ReplyAsync(stop, "501 5.5.4 Syntax: MAIL FROM:<address>"); return; }
        if (_settings.Behaviour == Behaviour.PolicyBlock && _settings.BlockAt == BlockAt.MailFrom)
        {
            await ReplyAsync(stop, "550 5.7.1 Sender rejected");
            return;
        }
        _mailFrom = m.Groups["addr"].Value;
        await ReplyAsync(stop, "250 2.1.0 Ok");
    }

    private async Task RcptAsync(string arg, CancellationToken stop)
    {
        _host.CountRcpt(_record);
        if (_mailFrom is null) { await ReplyAsync(stop, "503 5.5.1 Error: need MAIL command"); return; }
        var m = RcptToPattern().Match(arg);
        if (!m.Success || m.Groups["addr"].Value.LastIndexOf('@') is var at && at <= 0)
        {
            await ReplyAsync(stop, "501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        var address = m.Groups["addr"].Value;
        var local = address[..at];
        var domainName = Names.Normalize(address[(at + 1)..]);
        _sessionRcpts++;

        if (_settings.Behaviour == Behaviour.PolicyBlock && _settings.BlockAt == BlockAt.Rcpt)
        {
            // Client restrictions come before the recipient's: every recipient, ours or not, gets the same refusal.
            await ReplyAsync(stop, $"554 5.7.1 Service unavailable; Client host [{_clientIp}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{_clientIp}");
            return;
        }

        if (_settings.Behaviour == Behaviour.RateLimited && _sessionRcpts > _settings.MaxRecipients)
        {
            await ReplyAsync(stop, _settings.RateLimitReply);
            return;
        }
        if (_settings.Behaviour == Behaviour.M365 && _sessionRcpts > 1)
        {
            await ReplyAsync(stop, "452 4.5.3 Too many recipients");
            return;
        }
        var domain = _host.Domains.Contains(domainName) ? _world.Domain(domainName) : null;
        if (domain is null)
        {
            await ReplyAsync(stop, $"554 5.7.1 <{address}>: Relay access denied");
            return;
        }
        var exists = domain.Behaviour == Behaviour.CatchAll
                     || domain.Mailboxes.Any(b => string.Equals(b, local, StringComparison.OrdinalIgnoreCase));
        var full = domain.FullMailboxes?.Any(b => string.Equals(b, local, StringComparison.OrdinalIgnoreCase)) == true;
        if (full && !exists)
        {
            // Postfix's answer when Dovecot's quota-status policy service says the mailbox is over quota; asked here before postgrey,
            // as a server whose restrictions put the quota check first does (mail that would bounce is not greylisted first).
            await ReplyAsync(stop, $"552 5.2.2 <{address}>: Recipient address rejected: Mailbox full");
            return;
        }
        if (_settings.Behaviour == Behaviour.Greylist
            && _world.IsGreylisted(_clientIp, _mailFrom, address, TimeSpan.FromSeconds(_settings.GreylistSeconds)))
        {
            // Postgrey's default text (its %r is the recipient's domain), as Postfix words a DEFER_IF_PERMIT at RCPT.
            await ReplyAsync(stop, $"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{domainName}.html");
            return;
        }
        if (exists)
        {
            _recipients.Add(address);
            await ReplyAsync(stop, _settings.Behaviour == Behaviour.M365 ? "250 2.1.5 Recipient OK" : "250 2.1.5 Ok");
        }
        else if (_settings.Behaviour == Behaviour.M365)
            await ReplyAsync(stop, $"550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [{_host.Name}]");
        else
            await ReplyAsync(stop, $"550 5.1.1 <{address}>: Recipient address rejected: User unknown");
    }

    private void ResetTransaction()
    {
        _mailFrom = null;
        _recipients.Clear();
    }

    private static string Verb(string line)
    {
        var text = line.TrimEnd('\r', '\n');
        var space = text.IndexOf(' ');
        var verb = space < 0 ? text : text[..space];
        // "MAIL FROM:" and "RCPT TO:" keep their verb; the argument parsers see the rest.
        return verb.ToUpperInvariant();
    }

    private async Task ReplyAsync(CancellationToken stop, params string[] lines)
    {
        if (_settings.EffectiveReplyDelayMs > 0) await Task.Delay(_settings.EffectiveReplyDelayMs, stop);
        // Postfix sleeps before every reply, whatever it says, once the session has made the soft limit's errors.
        if (_limits is not null && _record.Errors >= _limits.SoftErrorLimit && _limits.ErrorSleepMs > 0)
            await Task.Delay(_limits.ErrorSleepMs, stop);
        _lastCode = lines[^1].Length >= 3 && int.TryParse(lines[^1].AsSpan(0, 3), out var code) ? code : 0;
        var sb = new StringBuilder();
        foreach (var l in lines)
        {
            var raw = l + "\r\n";
            _host.Transcript.Add(new TranscriptLine(_id, Direction.Sent, raw, _tls, _world.Time.GetUtcNow()));
            sb.Append(raw);
        }
        var bytes = Encoding.Latin1.GetBytes(sb.ToString());
        await _stream.WriteAsync(bytes, stop);
        await _stream.FlushAsync(stop);
    }

    /// <summary>The next line with its ending exactly as received (CRLF or bare LF), or null at end of stream.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken stop)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
        idle.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, _world.Description.IdleTimeoutSeconds)));
        while (true)
        {
            var nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                var raw = Encoding.Latin1.GetString(_buffer, _start, nl + 1 - _start);
                _start = nl + 1;
                _host.Transcript.Add(new TranscriptLine(_id, Direction.Received, raw, _tls, _world.Time.GetUtcNow()));
                if (!_tooLong && raw.Length <= MaxLine) return raw;
                _tooLong = false;
                return TooLong;
            }
            if (_end - _start >= MaxLine)
            {
                // An over-long line: recorded in pieces as it arrives, answered once when it ends.
                var piece = Encoding.Latin1.GetString(_buffer, _start, _end - _start);
                _host.Transcript.Add(new TranscriptLine(_id, Direction.Received, piece, _tls, _world.Time.GetUtcNow()));
                _start = _end;
                _tooLong = true;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(_buffer.AsMemory(_end, _buffer.Length - _end), idle.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                await ReplyAsync(stop, "421 4.4.2 Idle timeout, closing connection");
                return null;
            }
            if (n == 0)
            {
                if (_end > _start)
                {
                    var rest = Encoding.Latin1.GetString(_buffer, _start, _end - _start);
                    _host.Transcript.Add(new TranscriptLine(_id, Direction.Received, rest, _tls, _world.Time.GetUtcNow()));
                    _start = _end;
                }
                return null;
            }
            _end += n;
        }
    }

    [GeneratedRegex(@"^FROM:\s*<(?<addr>[^<>\s]*)>(\s+.*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex MailFromPattern();

    [GeneratedRegex(@"^TO:\s*<(?<addr>[^<>\s]+)>(\s+.*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex RcptToPattern();
}

internal static partial class SmtpReply
{
    public static bool IsValid(string reply) => Pattern().IsMatch(reply);

    [GeneratedRegex(@"^[2-5][0-9][0-9] \S.*$")]
    private static partial Regex Pattern();
}
