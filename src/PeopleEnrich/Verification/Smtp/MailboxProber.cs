using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Telemetry;
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
    /// <summary>No connection could be made at all (refused, timed out), as opposed to a server that answered.</summary>
    public bool Unreachable { get; init; }

    /// <summary>
    /// Nothing was tried: every host that could have been was remembered unreachable (<see cref="SmtpOptions.UnreachableTtl"/>).
    /// Once they have been failing long enough (<see cref="UnreachableFor"/>) this answers the person at once, rather than
    /// putting them off to meet the same dead hosts again.
    /// </summary>
    public bool RememberedUnreachable { get; init; }

    /// <summary>With <see cref="RememberedUnreachable"/>: how long the remembered hosts have been failing (the shortest run of them).</summary>
    public TimeSpan UnreachableFor { get; init; }

    /// <summary>Nothing was asked: all probing is paused (our address is on block lists).</summary>
    public bool Paused { get; init; }

    /// <summary>Nothing more was asked: the deployment's sending budget (<see cref="SmtpOptions.MaxRcptPerMinute"/>, <see cref="SmtpOptions.MaxRcptPerDay"/>) is spent for now.</summary>
    public bool BudgetSpent { get; init; }

    /// <summary>The mail host that refused or deferred us, and its reply; both null when no server answered (down, unreachable, silent).</summary>
    public string? Host { get; init; }

    /// <inheritdoc cref="Host"/>
    public SmtpReply? Reply { get; init; }
}

/// <summary>
/// Opens verification sessions with a domain's mail servers, in preference order: banner, EHLO (HELO
/// fallback), STARTTLS when offered, MAIL FROM. Every address connected to passes the network guard,
/// and a mail host sees at most <see cref="SmtpOptions.MaxSessionsPerHost"/> sessions from us (all processes) at once.
/// </summary>
public sealed class MailboxProber(
    NetworkGuard guard, IMailHostMemory memory, IMailHostLimits limits, HostSlots slots, SendingBudget budget, IOptions<SmtpOptions> options, TimeProvider time, ILogger<MailboxProber> logger)
{

    // The pause is read from the database at most this often: every session start asks.
    private static readonly TimeSpan PauseRecheck = TimeSpan.FromSeconds(5);
    private PauseRead _pause = new(null, DateTimeOffset.MinValue);

    // Hosts that refused us, as this process saw it, until their cool-down ends: checked before every RCPT, so sessions
    // already open there (other domains' lanes on a shared host) stop at once, not at their next session.
    private readonly ConcurrentDictionary<string, (SessionFailure Refusal, DateTimeOffset Until)> _refusedUs = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The host said "too many recipients" to the recipient after <paramref name="allowed"/> of a session: its sessions, and those
    /// of every host of its mail service, take no more from now on, in every process (<see cref="IMailHostLimits"/>).
    /// </summary>
    public async Task RememberRecipientLimitAsync(string host, int allowed, CancellationToken cancellationToken)
    {
        if (allowed >= 1 && await UnlessTheDatabaseFailsAsync(() => limits.RememberRecipientLimitAsync(host, allowed, cancellationToken),
                "Could not keep the recipient limit of mail host {Host}; it will be learnt again", host))
        {
            logger.LogInformation("Mail host {Host} takes {Recipients} recipients a session: its mail service's sessions end there for {Ttl}", host, allowed, options.Value.HostLimitsTtl);
        }
    }

    /// <summary>Why this host is not to be asked anything more, if it refused us while this process was asking it.</summary>
    public SessionFailure? RefusedUs(string host) =>
        _refusedUs.TryGetValue(host, out var refused) && time.GetUtcNow() < refused.Until ? refused.Refusal : null;

    /// <param name="extra">
    /// For a session that would only help: given up at once, rather than waited for, when the host already has all
    /// the sessions it allows from us, and not opened when it returns false after the politeness gap.
    /// </param>
    /// <param name="recheckUnreachable">
    /// For a person being asked again after the domain's hosts could not be reached: a host remembered unreachable is
    /// tried again (that retry is what the person was put off for), and forgotten when it answers. A refusal of us is
    /// never tried again before its cool-down ends.
    /// </param>
    public async Task<(ProbeSession? Session, SessionFailure? Failure)> OpenAsync(MailRouting.Hosts routing, CancellationToken cancellationToken, Func<bool>? extra = null, bool recheckUnreachable = false)
    {
        var settings = options.Value;
        if (await PausedAsync(cancellationToken) is { } pause)
        {
            return (null, new SessionFailure($"SMTP probing is paused until {pause.Until:u}: {pause.Why}", Temporary: false) { Paused = true });
        }

        if (await budget.SpentAsync(cancellationToken) is { } spent)
        {
            // Not a session opened for nothing: its first RCPT would not be sent.
            return (null, spent);
        }

        SessionFailure? failure = null;
        SessionFailure? remembered = null;
        foreach (var host in routing.Exchangers)
        {
            var standing = await StandingAsync(host.Name, cancellationToken);
            if (standing is { RefusedUs: true })
            {
                // Asking a host that blocks us again only deepens the block; its next MX would say the same.
                return (null, new SessionFailure($"{standing.Why} (not asking it again before {standing.Until:u})", Temporary: false, RefusedUs: true) { Host = host.Name });
            }

            if (standing is not null && !recheckUnreachable)
            {
                remembered = remembered is null
                    ? new SessionFailure($"{host.Name} could not be reached ({standing.Why}); not trying again before {standing.Until:u}", Temporary: true)
                    {
                        Unreachable = true,
                        RememberedUnreachable = true,
                        UnreachableFor = standing.FailingFor,
                    }
                    : remembered with { UnreachableFor = standing.FailingFor < remembered.UnreachableFor ? standing.FailingFor : remembered.UnreachableFor };
                continue;
            }

            if (standing is not null)
            {
                logger.LogInformation("Trying mail host {Host} again, though it could not be reached lately ({Why}): a person put off for it is asked again", host.Name, standing.Why);
            }

            var unreachable = 0;
            foreach (var address in host.Addresses)
            {
                if (!guard.IsAllowed(address))
                {
                    logger.LogWarning("Mail host {Host} resolves to {Address}, which is not public: not connecting", host.Name, address);
                    failure ??= new SessionFailure($"{host.Name} resolves to a non-public address", Temporary: false);
                    continue;
                }

                var slot = extra is null ? await slots.TakeAsync(host.Name, cancellationToken) : await slots.TryTakeAsync(host.Name, cancellationToken);
                if (slot is null)
                {
                    return (null, new SessionFailure($"{host.Name} has all the sessions it allows from us", Temporary: true));
                }

                await slots.KeepGapAsync(host.Name, cancellationToken);
                if (RefusedUs(host.Name) is { } refusedMeanwhile)
                {
                    // Refused us while this opener waited for a session there (another lane's RCPT): not one more connection to it.
                    await slot.DisposeAsync();
                    return (null, refusedMeanwhile);
                }

                if (extra?.Invoke() == false)
                {
                    await slot.DisposeAsync();
                    return (null, new SessionFailure("no longer needed", Temporary: true));
                }

                var (session, problem) = await TryOpenAsync(host, address, slot, settings, cancellationToken);
                if (session is not null)
                {
                    session.RecipientLimit = await RecipientLimitAsync(host.Name, cancellationToken) ?? int.MaxValue;
                    if (standing is not null)
                    {
                        // Back: its domain's other people are asked again, not answered that it did not answer.
                        await ForgetUnreachableAsync(host.Name, cancellationToken);
                    }

                    return (session, null);
                }

                await slot.DisposeAsync();
                if (problem!.RefusedUs)
                {
                    // A refusal of us is the organisation's policy: its next MX would say the same.
                    await RememberRefusalAsync(host.Name, problem.Why, cancellationToken);
                    return (null, problem);
                }

                if (standing is not null && problem.Reply is not null)
                {
                    // It answered, if only "not now": its domains' other people are put off and asked again, not told it did not answer.
                    await ForgetUnreachableAsync(host.Name, cancellationToken);
                    standing = null;
                }

                unreachable += problem.Unreachable ? 1 : 0;
                failure = failure is { Temporary: true } ? failure : problem;
            }

            if (unreachable > 0 && unreachable == host.Addresses.Count)
            {
                await UnlessTheDatabaseFailsAsync(
                    () => memory.RememberAsync(host.Name, new HostStanding(false, "no connection could be made", time.GetUtcNow() + settings.UnreachableTtl), cancellationToken),
                    "Could not remember that mail host {Host} was unreachable; its domains' other people try it themselves", host.Name);
            }
        }

        // A host tried now and not answering is news (put off, tried again); only when every host was remembered is nothing new to wait for.
        return (null, (failure is { Temporary: true } ? failure : remembered ?? failure) ?? new SessionFailure("no mail host could be reached", Temporary: false));
    }

    /// <summary>A refusal of us (at any step, RCPT included): no process asks that host again for the cool-down.</summary>
    public async Task RememberRefusalAsync(string host, string why, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + options.Value.BlockCooldown;
        _refusedUs[host] = (new SessionFailure(why, Temporary: false, RefusedUs: true) { Host = host }, until);
        logger.LogWarning("Mail host {Host} refused us: {Why}. Not asking it again for {Cooldown}", host, why, options.Value.BlockCooldown);
        if (!await UnlessTheDatabaseFailsAsync(() => memory.RememberAsync(host, new HostStanding(true, why, until), cancellationToken),
                "Could not keep in the database that mail host {Host} refused us; this process remembers it, the others may ask it once", host))
        {
            return;
        }

        if (ReplyInterpreter.NamesBlockList(why) && await memory.PauseAsync(cancellationToken) is { } pause)
        {
            KeepPause(new PauseRead(pause, time.GetUtcNow()));
            logger.LogError("Pausing all SMTP probing until {Until}: {Why}. Run 'doctor' to see which block lists name this machine's address", pause.Until, pause.Why);
        }
    }

    /// <summary>A host remembered unreachable answered: no longer so, for every process (a refusal of us stays).</summary>
    private async Task ForgetUnreachableAsync(string host, CancellationToken cancellationToken)
    {
        if (await UnlessTheDatabaseFailsAsync(() => memory.ForgetUnreachableAsync(host, cancellationToken),
                "Could not forget that mail host {Host} was unreachable; its domains' other people are answered that it did not answer until that ends", host))
        {
            logger.LogInformation("Mail host {Host} answered again: its domains' people are asked as usual", host);
        }
    }

    /// <summary>The host's standing; none when the database cannot say (a lost look-up must not stop verification).</summary>
    private Task<HostStanding?> StandingAsync(string host, CancellationToken cancellationToken) =>
        UnlessTheDatabaseFailsAsync(() => memory.StandingAsync(host, cancellationToken), "Could not read the standing of mail host {Host}; asking it as usual", host);

    /// <summary>The host's recipient limit learnt by any process; none when the database cannot say (the host's 452 teaches it again).</summary>
    private Task<int?> RecipientLimitAsync(string host, CancellationToken cancellationToken) =>
        UnlessTheDatabaseFailsAsync(() => limits.RecipientLimitAsync(host, cancellationToken),
            "Could not read the recipient limit of mail host {Host}; asking as many as a session allows", host);

    /// <summary>What the database knows of a host, or nothing (with a warning) when it cannot be read: probing goes on without it.</summary>
    private async Task<T?> UnlessTheDatabaseFailsAsync<T>(Func<Task<T?>> read, string warning, string host)
    {
        T? known = default;
        // A statement body: an expression lambda returning the value would bind to this method again.
        await UnlessTheDatabaseFailsAsync(async () => { known = await read(); }, warning, host);
        return known;
    }

    /// <summary>
    /// Reads or keeps what the database knows of a host; whether that worked. A lost database costs only what it
    /// would have remembered (with a warning), never the probing itself.
    /// </summary>
    private async Task<bool> UnlessTheDatabaseFailsAsync(Func<Task> work, string warning, string host)
    {
        try
        {
            await work();
            return true;
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException)
        {
            logger.LogWarning(exception, warning, host);
            return false;
        }
    }

    /// <summary>Whether all probing is paused (our address is on a block list), as every process sees it.</summary>
    public async Task<ProbingPause?> PausedAsync(CancellationToken cancellationToken)
    {
        var (pause, readAt) = Volatile.Read(ref _pause);
        if (time.GetUtcNow() - readAt >= PauseRecheck)
        {
            var began = time.GetUtcNow();
            pause = await memory.PauseAsync(cancellationToken);
            pause = KeepPause(new PauseRead(pause, pause is null ? began : time.GetUtcNow())).Pause;
        }

        return pause is not null && pause.Until > time.GetUtcNow() ? pause : null;
    }

    /// <summary>
    /// Keeps this read of the pause unless a later one was kept meanwhile: a look that began before a refusal paused probing
    /// (another lane's, a moment ago) and found none must not put "not paused" back for <see cref="PauseRecheck"/>. What is kept.
    /// </summary>
    private PauseRead KeepPause(PauseRead read)
    {
        while (true)
        {
            var kept = Volatile.Read(ref _pause);
            if (kept.ReadAt > read.ReadAt || Interlocked.CompareExchange(ref _pause, read, kept) == kept)
            {
                return kept.ReadAt > read.ReadAt ? kept : read;
            }
        }
    }

    /// <summary>What the database said of the pause, and as of when: a pause found, when it was found; none, when the look began (a pause committed meanwhile may be missing from it).</summary>
    private sealed record PauseRead(ProbingPause? Pause, DateTimeOffset ReadAt);

    private async Task<(ProbeSession?, SessionFailure?)> TryOpenAsync(MailHost host, IPAddress address, HostSlot slot, SmtpOptions settings, CancellationToken cancellationToken)
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
            return (null, new SessionFailure($"{host.Name}: could not connect ({exception.Message})", Temporary: true) { Unreachable = exception is not BlockedAddressException });
        }

        try
        {
            var refusal = await GreetAsync(conversation, host.Name, settings, cancellationToken);
            if (refusal is null)
            {
                Instruments.SmtpSessionOpened();
                return (new ProbeSession(conversation, host.Name, slot, time, settings), null);
            }

            await conversation.DisposeAsync();
            return (null, refusal);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException or System.Security.Authentication.AuthenticationException)
        {
            await conversation.DisposeAsync();
            // Connected, but silent past Smtp:CommandTimeout (a tarpit) or gone before any greeting: it did not answer, as a dead host does not.
            return (null, new SessionFailure($"{host.Name}: {exception.Message}", Temporary: true) { Unreachable = !conversation.HasReplied });
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

    private static SessionFailure? Stop(SessionStep step, SmtpReply reply, string host)
    {
        var outcome = ReplyInterpreter.InterpretSession(step, reply);
        if (outcome == SessionOutcome.Proceed)
        {
            return null;
        }

        Instruments.SmtpReply(StepLabel(step), outcome == SessionOutcome.Refused ? SmtpReplyClass.RefusedUs
            : reply.Code == 421 ? SmtpReplyClass.Throttled
            : SmtpReplyClass.Deferred);
        return outcome == SessionOutcome.Refused
            ? new SessionFailure($"{host} refused us at {step}: {reply}", Temporary: false, RefusedUs: true) { Host = host, Reply = reply }
            : new SessionFailure($"{host} deferred us at {step}: {reply}", Temporary: true) { Host = host, Reply = reply };
    }

    private static string StepLabel(SessionStep step) => step switch
    {
        SessionStep.Greeting => "greeting",
        SessionStep.Ehlo => "ehlo",
        _ => "mail_from",
    };
}

/// <summary>
/// One open verification session, ready for RCPT TO. It only ever sends RCPT, RSET and QUIT: never
/// DATA. Disposing it says goodbye and frees the host's politeness slot.
/// </summary>
public sealed partial class ProbeSession(SmtpConversation conversation, string host, HostSlot slot, TimeProvider time, SmtpOptions settings) : IAsyncDisposable
{
    public string Host { get; } = host;

    public int RecipientsAsked { get; private set; }

    /// <summary>Recipients not accepted in this session: what a server's error limits count (Postfix: every 4xx and 5xx reply).</summary>
    public int Errors { get; private set; }

    /// <summary>The server answered slowly after rejecting someone: it is throttling us, and this session is spent.</summary>
    public bool Throttled { get; private set; }

    /// <summary>The server said 421: it is closing this session.</summary>
    public bool Closing { get; private set; }

    /// <summary>How many recipients the host was seen to take in one session (Microsoft 365: one), when fewer than <see cref="SmtpOptions.MaxRcptPerSession"/>.</summary>
    public int RecipientLimit { get; set; } = int.MaxValue;

    /// <summary>Whether another recipient may be asked in this session without meeting the server's limits.</summary>
    public bool HasRoom => !Throttled && !Closing && RecipientsAsked < Math.Min(settings.MaxRcptPerSession, RecipientLimit) && Errors < settings.MaxRejectionsPerSession;

    public async Task<RcptObservation> AskAsync(string recipient, CancellationToken cancellationToken)
    {
        // Belt and braces: candidates are built from [a-z0-9._-] only, and nothing else is ever sent.
        if (!IsPlainAddress(recipient))
        {
            throw new ArgumentException($"Refusing to ask about '{recipient}': not a plain address.", nameof(recipient));
        }

        RecipientsAsked++;
        var asked = time.GetTimestamp();
        Instruments.RcptCommandSent();
        var reply = await conversation.SendAsync($"RCPT TO:<{recipient}>", cancellationToken);
        var slow = Errors > 0 && time.GetElapsedTime(asked) >= settings.ThrottledReply;
        Throttled |= slow;
        Closing |= reply.Code == 421;
        Errors += reply.IsPositive ? 0 : 1;
        var outcome = ReplyInterpreter.InterpretRcpt(reply);
        Instruments.SmtpReply("rcpt", slow || reply.Code == 421 ? SmtpReplyClass.Throttled : ClassOf(outcome));
        return new RcptObservation(recipient, outcome, reply, Host, time.GetUtcNow());
    }

    private static string ClassOf(RcptOutcome outcome) => outcome switch
    {
        RcptOutcome.Accepted => SmtpReplyClass.Accepted,
        RcptOutcome.Rejected => SmtpReplyClass.Rejected,
        RcptOutcome.Temporary => SmtpReplyClass.Greylisted,
        RcptOutcome.PolicyRefusal => SmtpReplyClass.RefusedUs,
        RcptOutcome.TooManyRecipients => SmtpReplyClass.Throttled,
        RcptOutcome.MailboxFull => SmtpReplyClass.MailboxFull,
        _ => SmtpReplyClass.Unexplained,
    };

    public async ValueTask DisposeAsync()
    {
        try
        {
            // After a 421 the server is closing the connection: no goodbye to wait for.
            if (!Closing)
            {
                using var goodbye = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await conversation.SendAsync("RSET", goodbye.Token);
                await conversation.SendAsync("QUIT", goodbye.Token);
            }
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException or OperationCanceledException)
        {
            // What was asked is answered; a rude goodbye changes nothing.
        }
        finally
        {
            await conversation.DisposeAsync();
            await slot.DisposeAsync();
            Instruments.SmtpSessionClosed();
        }
    }

    /// <summary>The only addresses ever asked about: a local part of [a-z0-9._-] (at most 64 characters) at a plain host name.</summary>
    public static bool IsPlainAddress(string address) => PlainAddress().IsMatch(address);

    [GeneratedRegex("^[a-z0-9._-]{1,64}@[a-z0-9.-]{1,253}$")]
    private static partial Regex PlainAddress();
}
