using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>What one RCPT TO was answered.</summary>
public sealed record RcptObservation(string Address, RcptOutcome Outcome, SmtpReply Reply);

/// <summary>What asking a domain's mail servers about some recipients showed.</summary>
public sealed record ProbeReport(string? Host, IReadOnlyList<RcptObservation> Recipients, string? Refusal, bool Deferred)
{
    public RcptObservation? For(string address) => Recipients.LastOrDefault(r => r.Address == address);
}

/// <summary>
/// Asks a domain's mail servers, in preference order, whether they would take mail for some
/// recipients: banner, EHLO (HELO fallback), STARTTLS when offered, MAIL FROM, RCPT TO each, RSET,
/// QUIT. Never DATA. A server that says "too many recipients" gets the rest in a new session.
/// </summary>
public sealed partial class MailboxProber(NetworkGuard guard, IOptions<SmtpOptions> options, ILogger<MailboxProber> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _hostSlots = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="stopAfter">Return as soon as this says enough is known (e.g. a candidate was accepted).</param>
    public async Task<ProbeReport> ProbeAsync(
        MailRouting.Hosts routing, IReadOnlyList<string> recipients, Func<RcptObservation, bool> stopAfter, CancellationToken cancellationToken)
    {
        foreach (var recipient in recipients)
        {
            if (!SafeAddress().IsMatch(recipient))
            {
                throw new ArgumentException($"Refusing to ask about '{recipient}': not a plain address.", nameof(recipients));
            }
        }

        string? lastProblem = null;
        var deferred = false;
        foreach (var host in routing.Exchangers)
        {
            foreach (var address in host.Addresses)
            {
                if (!guard.IsAllowed(address))
                {
                    logger.LogWarning("Mail host {Host} of a domain resolves to {Address}, which is not public: not connecting", host.Name, address);
                    lastProblem = $"{host.Name} resolves to a non-public address";
                    continue;
                }

                // Politeness: a mail host sees at most MaxSessionsPerHost sessions from us at once.
                var slots = _hostSlots.GetOrAdd(host.Name, _ => new SemaphoreSlim(options.Value.MaxSessionsPerHost));
                await slots.WaitAsync(cancellationToken);
                HostOutcome outcome;
                try
                {
                    outcome = await AskHostAsync(host, address, recipients, stopAfter, cancellationToken);
                }
                finally
                {
                    slots.Release();
                }

                switch (outcome)
                {
                    case HostOutcome.Answered answered:
                        return new ProbeReport(host.Name, answered.Observations, null, false);
                    case HostOutcome.Refused refused:
                        // A refusal of us is a refusal: the next MX is the same organisation's policy.
                        return new ProbeReport(host.Name, [], refused.Why, false);
                    case HostOutcome.Unavailable unavailable:
                        lastProblem = unavailable.Why;
                        deferred |= unavailable.Temporary;
                        break;
                }
            }
        }

        return new ProbeReport(null, [], lastProblem ?? "no mail host could be reached", deferred);
    }

    private async Task<HostOutcome> AskHostAsync(
        MailHost host, IPAddress address, IReadOnlyList<string> recipients, Func<RcptObservation, bool> stopAfter, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var observations = new List<RcptObservation>();
        var pending = new Queue<string>(recipients);
        while (pending.Count > 0)
        {
            SmtpConversation conversation;
            try
            {
                var socket = await guard.ConnectAsync(address, settings.Port, settings.ConnectTimeout, cancellationToken);
                conversation = SmtpConversation.Over(socket, settings.CommandTimeout);
            }
            catch (Exception exception) when (exception is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return new HostOutcome.Unavailable($"{host.Name}: could not connect ({exception.Message})", Temporary: false);
            }

            await using (conversation)
            {
                try
                {
                    var opened = await OpenAsync(conversation, host.Name, settings, cancellationToken);
                    if (opened is not null)
                    {
                        return observations.Count > 0 ? new HostOutcome.Answered(observations) : opened;
                    }

                    var inSession = 0;
                    while (pending.Count > 0 && inSession < settings.MaxRcptPerSession)
                    {
                        var recipient = pending.Peek();
                        var reply = await conversation.SendAsync($"RCPT TO:<{recipient}>", cancellationToken);
                        var outcome = ReplyInterpreter.InterpretRcpt(reply);
                        if (outcome == RcptOutcome.TooManyRecipients && inSession > 0)
                        {
                            break; // ask the rest in a new session; this one learned nothing more
                        }

                        pending.Dequeue();
                        inSession++;
                        var observation = new RcptObservation(recipient, outcome, reply);
                        observations.Add(observation);
                        if (stopAfter(observation))
                        {
                            pending.Clear();
                        }
                    }

                    await CloseAsync(conversation, cancellationToken);
                }
                catch (SmtpProtocolException exception)
                {
                    return observations.Count > 0 ? new HostOutcome.Answered(observations) : new HostOutcome.Unavailable($"{host.Name}: {exception.Message}", Temporary: true);
                }
                catch (System.IO.IOException exception)
                {
                    return observations.Count > 0 ? new HostOutcome.Answered(observations) : new HostOutcome.Unavailable($"{host.Name}: {exception.Message}", Temporary: true);
                }
            }
        }

        return new HostOutcome.Answered(observations);
    }

    /// <summary>Banner, EHLO or HELO, STARTTLS, MAIL FROM; null when the session is ready for RCPT.</summary>
    private static async Task<HostOutcome?> OpenAsync(SmtpConversation conversation, string host, SmtpOptions settings, CancellationToken cancellationToken)
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

    private static HostOutcome? Stop(SessionStep step, SmtpReply reply, string host) => ReplyInterpreter.InterpretSession(step, reply) switch
    {
        SessionOutcome.Proceed => null,
        SessionOutcome.Refused => new HostOutcome.Refused($"{host} refused us at {step}: {reply}"),
        _ => new HostOutcome.Unavailable($"{host} deferred us at {step}: {reply}", Temporary: true),
    };

    private static async Task CloseAsync(SmtpConversation conversation, CancellationToken cancellationToken)
    {
        try
        {
            await conversation.SendAsync("RSET", cancellationToken);
            await conversation.SendAsync("QUIT", cancellationToken);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or System.IO.IOException)
        {
            // What was asked is answered; a rude goodbye changes nothing.
        }
    }

    private abstract record HostOutcome
    {
        public sealed record Answered(IReadOnlyList<RcptObservation> Observations) : HostOutcome;

        public sealed record Refused(string Why) : HostOutcome;

        public sealed record Unavailable(string Why, bool Temporary) : HostOutcome;
    }

    // Belt and braces: candidates are built from [a-z0-9._-] only, and nothing else is ever sent.
    [GeneratedRegex("^[a-z0-9._-]{1,64}@[a-z0-9.-]{1,253}$")]
    private static partial Regex SafeAddress();
}
