using System.Net.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// One SMTP connection, line by line: commands out, replies in, STARTTLS. It sends only the
/// commands a verification needs and refuses to write anything that is not one printable ASCII line,
/// so nothing a person typed can add a command. There is no DATA here, by construction.
/// </summary>
public sealed partial class SmtpConversation : IAsyncDisposable
{
    private const int MaxLine = 4096;
    private const int MaxReplyLines = 100;
    private readonly TimeSpan _commandTimeout;
    private readonly byte[] _buffer = new byte[8192];
    private Stream _stream;
    private int _start;
    private int _end;

    private SmtpConversation(Stream connection, TimeSpan commandTimeout)
    {
        _stream = connection;
        _commandTimeout = commandTimeout;
    }

    public bool IsEncrypted => _stream is SslStream;

    /// <summary>Whether the server sent any whole reply (its greeting, at least).</summary>
    public bool HasReplied { get; private set; }

    public static SmtpConversation Over(Stream connection, TimeSpan commandTimeout) => new(connection, commandTimeout);

    public Task<SmtpReply> ReadGreetingAsync(CancellationToken cancellationToken) => WithTimeout(ReadReplyAsync, cancellationToken);

    public Task<SmtpReply> SendAsync(string command, CancellationToken cancellationToken)
    {
        if (!SafeLine().IsMatch(command))
        {
            throw new ArgumentException("An SMTP command must be one line of printable ASCII.", nameof(command));
        }

        return WithTimeout(async token =>
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), token);
            await _stream.FlushAsync(token);
            return await ReadReplyAsync(token);
        }, cancellationToken);
    }

    /// <summary>After a 220 to STARTTLS: the same connection, encrypted. Any certificate is accepted: we send no secrets.</summary>
    public async Task UpgradeToTlsAsync(string host, CancellationToken cancellationToken)
    {
        if (_start != _end)
        {
            throw new SmtpProtocolException("The server sent more after its STARTTLS reply (a possible injection); closing.");
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await WithTimeout(async token =>
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, token);
            return 0;
        }, cancellationToken);
        _stream = tls;
    }

    private async Task<SmtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var lines = new StringBuilder();
        for (var count = 0; count < MaxReplyLines; count++)
        {
            var line = await ReadLineAsync(cancellationToken);
            lines.Append(line).Append("\r\n");
            if (line.Length < 4 || line[3] != '-')
            {
                if (!SmtpReply.TryParse(lines.ToString(), out var reply))
                {
                    throw new SmtpProtocolException($"Not an SMTP reply: {Printable(line)}");
                }

                HasReplied = true;
                return reply;
            }
        }

        throw new SmtpProtocolException("A reply of more than 100 lines.");
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.ASCII.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }

            if (_end - _start >= MaxLine)
            {
                throw new SmtpProtocolException("A reply line longer than 4096 bytes.");
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new SmtpProtocolException("The server closed the connection.");
            }

            _end += read;
        }
    }

    private async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_commandTimeout);
        try
        {
            return await step(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SmtpProtocolException($"No answer within {_commandTimeout.TotalSeconds:0.#} s.");
        }
    }

    private static string Printable(string line) => new(line.Take(200).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    [GeneratedRegex("^[\\x20-\\x7E]{1,510}$")]
    private static partial Regex SafeLine();
}

public sealed class SmtpProtocolException(string message) : Exception(message);
