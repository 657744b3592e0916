using System.Net.Sockets;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>What the SMTP check learnt: its row, and the mail host's EHLO reply when one came (where it may echo our address).</summary>
public sealed record SmtpFinding(CheckResult Result, string? Host, SmtpReply? Ehlo);

/// <summary>
/// Whether outbound SMTP (Smtp:Port, 25) reaches the domain's mail hosts, directly or through Smtp:Socks5Proxy, as the
/// finder would: every address through the network guard, so a private or loopback MX gets no connection. It says
/// only banner, EHLO and QUIT: no MAIL, no RCPT, never DATA.
/// </summary>
public sealed class SmtpReachCheck(NetworkGuard guard, IOptions<SmtpOptions> options)
{
    public const string Name = "outbound SMTP";

    // A blocked port costs a whole connect time-out per address: three of them say "blocked" as surely as ten.
    private const int MaxAttempts = 3;

    public async Task<SmtpFinding> RunAsync(string domain, MailRouting routing, CancellationToken cancellationToken)
    {
        switch (routing)
        {
            case MailRouting.Unresolved:
                return new SmtpFinding(CheckResult.NotChecked(Name, $"DNS gave no mail hosts for {domain}"), null, null);
            case MailRouting.NoMail noMail:
                return new SmtpFinding(CheckResult.Fail(Name, $"{domain}: {noMail.Why}; nothing to connect to",
                    "Give --domain a domain that takes mail, such as gmail.com."), null, null);
        }

        var settings = options.Value;
        var proxy = settings.Proxy;
        var via = proxy is null ? "directly" : $"through the proxy {proxy.Host}:{proxy.Port}";
        var refused = new List<string>();
        var failures = new List<string>();
        foreach (var (host, address) in ((MailRouting.Hosts)routing).Exchangers.SelectMany(h => h.Addresses, (h, a) => (h.Name, a)))
        {
            if (!guard.IsAllowed(address))
            {
                refused.Add($"{host} [{address}]");
                continue;
            }

            if (failures.Count == MaxAttempts)
            {
                break;
            }

            Stream connection;
            try
            {
                connection = await guard.ConnectAsync(address, settings.Port, settings.ConnectTimeout, proxy, cancellationToken);
            }
            catch (Exception exception) when (exception is SocketException or IOException
                || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failures.Add($"{host} [{address}]:{settings.Port} {Why(exception, settings.ConnectTimeout)}");
                continue;
            }

            return await GreetAsync(host, $"{host} [{address}]:{settings.Port} {via}", connection, settings, cancellationToken);
        }

        if (failures.Count == 0)
        {
            return new SmtpFinding(CheckResult.Fail(Name, $"no public address among {domain}'s mail hosts ({string.Join(", ", refused)}): not connecting",
                "Give --domain a domain whose mail servers are on the internet (Network:AllowPrivateAddresses is for an intranet only)."), null, null);
        }

        return new SmtpFinding(CheckResult.Fail(Name, $"could not connect {via}: {string.Join("; ", failures)}",
            proxy is null
                ? "Try another --domain; if it fails alike, outbound port 25 is blocked here (most clouds block it): verify from a host whose port 25 is open, or through Smtp:Socks5Proxy."
                : "Check that the proxy is up, that it accepts this machine, and that its own outbound port 25 is open."), null, null);
    }

    /// <summary>Banner, EHLO, QUIT over an open connection; the row says whether the server let us in.</summary>
    private static async Task<SmtpFinding> GreetAsync(string host, string where, Stream connection, SmtpOptions settings, CancellationToken cancellationToken)
    {
        await using var conversation = SmtpConversation.Over(connection, settings.CommandTimeout);
        try
        {
            var banner = await conversation.ReadGreetingAsync(cancellationToken);
            if (banner.Code != 220)
            {
                return new SmtpFinding(Refused(where, "at its banner", banner), host, null);
            }

            var ehlo = await conversation.SendAsync($"EHLO {settings.EffectiveHeloName}", cancellationToken);
            await QuitAsync(conversation, cancellationToken);
            return ehlo.IsPositive
                ? new SmtpFinding(CheckResult.Ok(Name, $"{where}: {banner}; EHLO {ehlo.Code}"), host, ehlo)
                : new SmtpFinding(Refused(where, $"at EHLO {settings.EffectiveHeloName}", ehlo), host, null);
        }
        catch (ArgumentException)
        {
            return new SmtpFinding(CheckResult.Fail(Name, $"{where}: Smtp:HeloName '{settings.EffectiveHeloName}' cannot be sent in EHLO",
                "Set Smtp:HeloName to this machine's host name, as its reverse DNS gives it."), host, null);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException)
        {
            return new SmtpFinding(CheckResult.Fail(Name, $"{where}: connected, but no SMTP conversation: {exception.Message}",
                "Something on the way (a firewall, the proxy) takes port 25 connections but does not speak SMTP: have it let SMTP through."), host, null);
        }
    }

    private static CheckResult Refused(string where, string when, SmtpReply reply) => reply.IsTransientFailure
        ? CheckResult.Warn(Name, $"{where}: deferred us {when}: {reply}", "The server is busy or slowing us down: run the doctor again later, or with another --domain.")
        : CheckResult.Fail(Name, $"{where}: refused us {when}: {reply}", "The mail server refuses this machine: its reply says why; see the block-list and reverse DNS rows.");

    /// <summary>Says goodbye; a server that hangs up first changes nothing.</summary>
    private static async Task QuitAsync(SmtpConversation conversation, CancellationToken cancellationToken)
    {
        try
        {
            await conversation.SendAsync("QUIT", cancellationToken);
        }
        catch (Exception exception) when (exception is SmtpProtocolException or IOException)
        {
        }
    }

    private static string Why(Exception exception, TimeSpan timeout) => exception switch
    {
        OperationCanceledException => $"no answer within {timeout.TotalSeconds:0.#} s",
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "refused",
        SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable } => "unreachable (no route)",
        _ => exception.Message,
    };
}
