using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>What one RCPT TO was answered, by which mail host, and when.</summary>
public sealed record RcptObservation(string Address, RcptOutcome Outcome, SmtpReply Reply, string Host, DateTimeOffset At);

/// <summary>
/// A session could not be had: refused by policy (no verdict from this domain), or not now (worth
/// coming back for), or no host could be reached at all.
/// </summary>
public sealed record SessionFailure(string Why, bool Temporary, bool RefusedUs = false)
{
    /// <summary>The mail host that refused or deferred us, and its reply; both null when no server answered (down, unreachable, silent).</summary>
    public string? Host { get; init; }

    /// <inheritdoc cref="Host"/>
    public SmtpReply? Reply { get; init; }
}

/// <summary>
/// Opens verification sessions with a domain's mail servers, in preference order: banner, EHLO (HELO
/// fallback), STARTTLS when offered, MAIL FROM. Every address connected to passes the network guard,
/// and a mail host sees at most <see cref="SmtpOptions.MaxSessionsPerHost"/> sessions from us at once.
/// </summary>
public sealed class MailboxProber(NetworkGuard guard, IOptions<SmtpOptions> options, TimeProvider time, ILogger<MailboxProber> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _hostSlots = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastStart = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="extra">
    /// For a session that would only help: given up at once, rather than waited for, when the host already has all
    /// the sessions it allows from us, and not opened when it returns false after the politeness gap.
    /// </param>
    public async Task<(ProbeSession? Session, SessionFailure? Failure)> OpenAsync(MailRouting.Hosts routing, CancellationToken cancellationToken, Func<bool>? extra = null)
    {
        var settings = options.Value;
        SessionFailure? failure = null;
        foreach (var host in routing.Exchangers)
        {
            foreach (var address in host.Addresses)
            {
                if (!guard.IsAllowed(address))
                {
                    logger.LogWarning("Mail host {Host} resolves to {Address}, which is not public: not connecting", host.Name, address);
                    failure ??= new SessionFailure($"{host.Name} resolves to a non-public address", Temporary: false);
                    continue;
                }

                var slot = _hostSlots.GetOrAdd(host.Name, _ => new SemaphoreSlim(settings.MaxSessionsPerHost));
                if (extra is not null)
                {
                    if (!slot.Wait(0))
                    {
                        return (null, new SessionFailure($"{host.Name} has all the sessions it allows from us", Temporary: true));
                    }
                }
                else
                {
                    await slot.WaitAsync(cancellationToken);
                }

                await KeepGapAsync(host.Name, settings.MinSessionGap, cancellationToken);
                if (extra?.Invoke() == false)
                {
                    slot.Release();
                    return (null, new SessionFailure("no longer needed", Temporary: true));
                }

                var (session, problem) = await TryOpenAsync(host, address, slot, settings, cancellationToken);
                if (session is not null)
                {
                    return (session, null);
                }

                slot.Release();
                if (problem!.RefusedUs)
                {
                    // A refusal of us is the organisation's policy: its next MX would say the same.
                    return (null, problem);
                }

                failure = failure is { Temporary: true } ? failure : problem;
            }
        }

        return (null, failure ?? new SessionFailure("no mail host could be reached", Temporary: false));
    }

    /// <summary>Waits, while holding the host's slot, until the last session there started long enough ago.</summary>
    private async Task KeepGapAsync(string host, TimeSpan gap, CancellationToken cancellationToken)
    {
        // Each opener reserves its start time, so two openers at once are spaced too.
        DateTimeOffset start;
        lock (_lastStart)
        {
            var now = time.GetUtcNow();
            start = _lastStart.TryGetValue(host, out var last) && last + gap > now ? last + gap : now;
            _lastStart[host] = start;
        }

        var wait = start - time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken);
        }
    }

    private async Task<(ProbeSession?, SessionFailure?)> TryOpenAsync(MailHost host, IPAddress address, SemaphoreSlim slot, SmtpOptions settings, CancellationToken cancellationToken)
    {
        SmtpConversation conversation;
        try
        {
            var connection = await guard.ConnectAsync(address, settings.Port, settings.ConnectTimeout, settings.Proxy, cancellationToken);
            conversation = SmtpConversation.Over(connection, settings.CommandTimeout);
        }
        catch (Exception exception) when (exception is System.Net.Sockets.SocketException or BlockedAddressException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, new SessionFailure($"{host.Name}: could not connect ({exception.Message})", Temporary: true));
        }

        try
        {
            var refusal = await GreetAsync(conversation, host.Name, settings, cancellationToken);
            if (refusal is null)
            {
                return (new ProbeSession(conversation, host.Name, slot, time), null);
            }

            await conversation.DisposeAsync();
            return (null, refusal);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException or System.Security.Authentication.AuthenticationException)
        {
            await conversation.DisposeAsync();
            return (null, new SessionFailure($"{host.Name}: {exception.Message}", Temporary: true));
        }
    }

    /// <summary>Banner, EHLO or HELO, STARTTLS, MAIL FROM; null when the session is ready for RCPT.</summary>
    private static async Task<SessionFailure?> GreetAsync(SmtpConversation conversation, string host, SmtpOptions settings, CancellationToken cancellationToken)
    {
        var greeting = await conversation.ReadGreetingAsync(cancellationToken);
        if (Stop(SessionStep.Greeting, greeting, host) is { } atGreeting)
        {
            return atGreeting;
        }

        var ehlo = await conversation.SendAsync($"EHLO {settings.EffectiveHeloName}", cancellationToken);
        if (ReplyInterpreter.InterpretSession(SessionStep.Ehlo, ehlo) == SessionOutcome.RetryWithHelo)
        {
            ehlo = await conversation.SendAsync($"HELO {settings.EffectiveHeloName}", cancellationToken);
        }
        else if (settings.StartTls && ehlo.IsPositive && ehlo.Text.Contains("STARTTLS", StringComparison.OrdinalIgnoreCase))
        {
            var ready = await conversation.SendAsync("STARTTLS", cancellationToken);
            if (ready.Code == 220)
            {
                await conversation.UpgradeToTlsAsync(host, cancellationToken);
                ehlo = await conversation.SendAsync($"EHLO {settings.EffectiveHeloName}", cancellationToken);
            }
        }

        if (Stop(SessionStep.Ehlo, ehlo, host) is { } atEhlo)
        {
            return atEhlo;
        }

        var mailFrom = await conversation.SendAsync($"MAIL FROM:<{settings.EffectiveMailFrom}>", cancellationToken);
        return Stop(SessionStep.MailFrom, mailFrom, host);
    }

    private static SessionFailure? Stop(SessionStep step, SmtpReply reply, string host) => ReplyInterpreter.InterpretSession(step, reply) switch
    {
        SessionOutcome.Proceed => null,
        SessionOutcome.Refused => new SessionFailure($"{host} refused us at {step}: {reply}", Temporary: false, RefusedUs: true) { Host = host, Reply = reply },
        _ => new SessionFailure($"{host} deferred us at {step}: {reply}", Temporary: true) { Host = host, Reply = reply },
    };
}

/// <summary>
/// One open verification session, ready for RCPT TO. It only ever sends RCPT, RSET and QUIT: never
/// DATA. Disposing it says goodbye and frees the host's politeness slot.
/// </summary>
public sealed partial class ProbeSession(SmtpConversation conversation, string host, SemaphoreSlim slot, TimeProvider time) : IAsyncDisposable
{
    public string Host { get; } = host;

    public int RecipientsAsked { get; private set; }

    public async Task<RcptObservation> AskAsync(string recipient, CancellationToken cancellationToken)
    {
        // Belt and braces: candidates are built from [a-z0-9._-] only, and nothing else is ever sent.
        if (!IsPlainAddress(recipient))
        {
            throw new ArgumentException($"Refusing to ask about '{recipient}': not a plain address.", nameof(recipient));
        }

        RecipientsAsked++;
        var reply = await conversation.SendAsync($"RCPT TO:<{recipient}>", cancellationToken);
        return new RcptObservation(recipient, ReplyInterpreter.InterpretRcpt(reply), reply, Host, time.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var goodbye = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await conversation.SendAsync("RSET", goodbye.Token);
            await conversation.SendAsync("QUIT", goodbye.Token);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException or OperationCanceledException)
        {
            // What was asked is answered; a rude goodbye changes nothing.
        }
        finally
        {
            await conversation.DisposeAsync();
            slot.Release();
        }
    }

    /// <summary>The only addresses ever asked about: a local part of [a-z0-9._-] (at most 64 characters) at a plain host name.</summary>
    public static bool IsPlainAddress(string address) => PlainAddress().IsMatch(address);

    [GeneratedRegex("^[a-z0-9._-]{1,64}@[a-z0-9.-]{1,253}$")]
    private static partial Regex PlainAddress();
}
