using System.Text.RegularExpressions;

namespace PeopleEnrich.Verification.Smtp;

/// <summary>
/// What a reply to RCPT TO says. These are observations about one question asked of one server, not
/// verdicts on the address: only the verdict logic turns them (with everything else known) into a status.
/// </summary>
public enum RcptOutcome
{
    /// <summary>250 or 251: the server would take mail for this recipient.</summary>
    Accepted,

    /// <summary>A permanent "no such mailbox": 5.1.x, "user unknown", Microsoft 365's directory-based edge block…</summary>
    Rejected,

    /// <summary>The mailbox exists but is over quota (552, 5.2.2 or 4.2.2).</summary>
    MailboxFull,

    /// <summary>The session has reached the server's recipient limit: ask the rest in a new session; nothing was learned.</summary>
    TooManyRecipients,

    /// <summary>Any other 4xx: greylisting, a busy server, even a 4xx "user unknown". Ask again later.</summary>
    Temporary,

    /// <summary>The server refuses us (block lists, reputation, policy, relaying), not the address.</summary>
    PolicyRefusal,

    /// <summary>A refusal or reply that says nothing we can attribute either to the address or to us.</summary>
    Unexplained,
}

/// <summary>What a reply before RCPT (the greeting, EHLO, MAIL FROM) means for the session.</summary>
public enum SessionOutcome
{
    /// <summary>Go on to the next command.</summary>
    Proceed,

    /// <summary>The server cannot talk now (421, other 4xx): try later; nothing was learned about any address.</summary>
    Temporary,

    /// <summary>The server will not talk to us (5xx, such as 554 at the greeting): never a verdict on an address.</summary>
    Refused,

    /// <summary>EHLO is not understood (500, 502): say HELO instead (RFC 5321 §3.2).</summary>
    RetryWithHelo,
}

/// <summary>The SMTP command a reply answers, for replies before RCPT TO.</summary>
public enum SessionStep
{
    Greeting,
    Ehlo,
    MailFrom,
}

/// <summary>Reads SMTP replies into observations. Enhanced status codes are trusted first, then the code, then the text.</summary>
public static partial class ReplyInterpreter
{
    // Wording of "this mailbox does not exist" across servers (see the fixtures in ReplyInterpreterTests).
    private static readonly string[] NoSuchUser =
    [
        "user unknown", "unknown user", "no such user", "no such mailbox", "no mailbox", "does not exist",
        "doesn't exist", "doesn't have a", "mailbox unavailable", "mailbox not found", "recipient address rejected",
        "invalid recipient", "recipient not found", "address not found", "user not found", "not found",
        "unrouteable address", "unroutable address", "address rejected", "unknown recipient", "no longer",
        "account disabled", "is disabled", "user not local", "mailbox name not allowed", "address unknown",
    ];

    // Wording of "we refuse you": block lists, reputation and policy. Checked before NoSuchUser, because
    // a policy refusal often names the recipient ("<x>: Recipient address rejected: Relay access denied").
    private static readonly string[] Policy =
    [
        "spamhaus", "blocked", "block list", "blocklist", "blacklist", "denylist", "banned", "denied by policy",
        "policy", "client host rejected", "relay access denied", "relaying denied", "relay not permitted",
        "administrative prohibition", "reputation", "spam", "dnsbl", "not allowed to connect",
        "reverse dns", "ptr record", "access denied, bad inbound connector",
    ];

    private static readonly string[] Full = ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage"];

    private static readonly string[] TooMany = ["too many recipients", "recipient limit", "too many rcpt"];

    public static RcptOutcome InterpretRcpt(SmtpReply reply)
    {
        var text = reply.Text.ToLowerInvariant();
        var status = reply.EnhancedCode;

        if (reply.Code is 250 or 251)
        {
            return RcptOutcome.Accepted;
        }

        // 452 4.5.3 (RFC 5321 §4.5.3.1.10); older servers said 552 "too many recipients".
        if (status is "4.5.3" or "5.5.3" || ContainsAny(text, TooMany))
        {
            return reply.IsTransientFailure || reply.IsPermanentFailure ? RcptOutcome.TooManyRecipients : RcptOutcome.Unexplained;
        }

        if (status is "4.2.2" or "5.2.2" || reply.Code == 552 || ((reply.Code == 452 || reply.IsPermanentFailure) && ContainsAny(text, Full)))
        {
            return RcptOutcome.MailboxFull;
        }

        // A 4xx is never final about the address, whatever it says: Postfix answers "450 4.1.1 User unknown" while its
        // directory is unreachable, and greylisting ("450 4.2.0 Greylisted") wants the same question later. But a policy
        // reply (4.7.x) in words about us is a refusal of us (Postfix's reject_unknown_client_hostname says "450 4.7.1
        // Client host rejected"): asked again round after round, it only deepens. Only the reply's own words count, not the
        // recipient or links it quotes, which may spell anything.
        if (reply.IsTransientFailure)
        {
            // A greylisting policy placed among the client restrictions says "Client host rejected: Greylisted": still a deferral.
            return status?.StartsWith("4.7.", StringComparison.Ordinal) == true && RefusesTheClient(reply)
                && !SaysGreylisting().IsMatch(reply.Text)
                ? RcptOutcome.PolicyRefusal
                : RcptOutcome.Temporary;
        }

        if (!reply.IsPermanentFailure)
        {
            return RcptOutcome.Unexplained;
        }

        return status is null ? PermanentByText(text) : PermanentByStatus(status, text);
    }

    // Wording of a refusal because our address is on a DNS block list (Postfix's reject_rbl_client, Exchange, …).
    private static readonly string[] BlockListed = ["blocked using", "spamhaus", "barracuda", "spamcop", "block list", "blocklist", "blacklist", "dnsbl", "rbl"];

    // Wording of a refusal aimed at us, the client, rather than at one recipient ("5.7.1 delivery not authorized"
    // for a restricted group is about the recipient, and says nothing of the host's view of us).
    private static readonly string[] AboutTheClient = ["client host", "your ip", "ip address", "reputation", "not allowed to connect", "bad inbound connector", "reverse dns", "ptr record", "helo"];

    /// <summary>Whether a policy refusal at RCPT is about us (a block list, our address, our name), so that the whole host refuses us.</summary>
    /// <remarks>Only the reply's own words count, not the recipient or links it quotes, which may spell anything ("helo.kim@", "verbly.com").</remarks>
    public static bool RefusesTheClient(SmtpReply reply)
    {
        var own = OwnWords(reply);
        return NamesBlockList(own) || ContainsAny(own, AboutTheClient);
    }

    /// <summary>
    /// Whether a policy refusal says the server does not take mail for the recipient's domain from us at all ("Relay access
    /// denied": this host is not the domain's mail server for us): every other address of the domain would be refused alike.
    /// </summary>
    public static bool DeniesRelaying(SmtpReply reply) => ContainsAny(OwnWords(reply), Relaying);

    /// <summary>
    /// Whether a rejection says the mailbox does not exist: 5.1.1 (5.1.0, 5.1.10), Microsoft 365's 5.4.1 "Recipient address
    /// rejected" (its directory knows no such recipient), or, without an enhanced code, the words of "no such user". A server
    /// that says so of an address checks its recipients, so it is not catch-all. Not a mailbox disabled, suspended or gone
    /// (5.2.1, "no longer"): a catch-all server may still turn away a mailbox it knows is closed, while accepting made-up ones.
    /// </summary>
    public static bool SaysNoSuchMailbox(SmtpReply reply)
    {
        if (InterpretRcpt(reply) != RcptOutcome.Rejected)
        {
            return false;
        }

        var own = OwnWords(reply);
        if (ContainsAny(own, Closed))
        {
            return false;
        }

        return reply.EnhancedCode switch
        {
            "5.1.0" or "5.1.1" or "5.1.10" => true,
            "5.4.1" => own.Contains("recipient address rejected", StringComparison.Ordinal),
            null => ContainsAny(own, NoSuchUser),
            _ => false,
        };
    }

    // Wording of a mailbox that exists, or did, but takes no mail: not "no such user".
    private static readonly string[] Closed = ["disabled", "no longer", "inactive", "suspended", "deactivated", "closed", "moved"];

    private static readonly string[] Relaying = ["relay access denied", "relaying denied", "relay not permitted", "relaying not permitted", "relay denied", "relaying not allowed", "unable to relay"];

    // Greylisting in either spelling, with or without a hyphen or space: "Greylisted", "graylisting", "grey-listed", "Gray listing".
    [GeneratedRegex(@"gr[ae]y[- ]?list", RegexOptions.IgnoreCase)]
    private static partial Regex SaysGreylisting();

    /// <summary>The reply's own words, lower case: without the addresses and links it quotes, which may spell anything.</summary>
    private static string OwnWords(SmtpReply reply) => QuotedNames().Replace(reply.Text, " ").ToLowerInvariant();

    // An address in angle brackets, or a link: names a reply quotes rather than its own words.
    [GeneratedRegex(@"<[^>]*>|https?://\S+")]
    private static partial Regex QuotedNames();

    /// <summary>Whether a refusal names a DNS block list: our address is listed, not only disliked by one host.</summary>
    /// <remarks>
    /// Not in the recipient it quotes ("&lt;helo.kim@verbly.test&gt;" spells "rbl"): three such refusals would pause all probing.
    /// A link stays read: a block list's look-up page names it.
    /// </remarks>
    public static bool NamesBlockList(string refusal) => ContainsAny(QuotedAddresses().Replace(refusal, " ").ToLowerInvariant(), BlockListed);

    // An address in angle brackets: a recipient (or sender) the reply quotes.
    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex QuotedAddresses();

    public static SessionOutcome InterpretSession(SessionStep step, SmtpReply reply)
    {
        if (step == SessionStep.Greeting ? reply.Code == 220 : reply.IsPositive)
        {
            return SessionOutcome.Proceed;
        }

        if (step == SessionStep.Ehlo && reply.Code is 500 or 502)
        {
            return SessionOutcome.RetryWithHelo;
        }

        // 5xx here is about us (our IP, our HELO name, our sender), never about an address. Anything
        // else (a 4xx, or a code out of place) means the server cannot be asked now.
        return reply.IsPermanentFailure ? SessionOutcome.Refused : SessionOutcome.Temporary;
    }

    private static RcptOutcome PermanentByStatus(string status, string text)
    {
        var subject = status[2..status.IndexOf('.', 2)];
        return subject switch
        {
            // X.7.X is security or policy (RFC 3463 §3.8): block lists, reputation, authentication.
            "7" => RcptOutcome.PolicyRefusal,
            // X.1.7 and X.1.8 are about the sender's address: a refusal of us.
            "1" when status is "5.1.7" or "5.1.8" => RcptOutcome.PolicyRefusal,
            "1" => RcptOutcome.Rejected,
            // 5.2.1: mailbox disabled (Gmail: "The email account that you tried to reach is disabled").
            "2" when status == "5.2.1" => RcptOutcome.Rejected,
            // Microsoft 365 answers an unknown recipient with "550 5.4.1 Recipient address rejected:
            // Access denied" (directory-based edge blocking) although 5.4.1 is a routing code.
            "4" when status == "5.4.1" && text.Contains("recipient address rejected") => RcptOutcome.Rejected,
            _ => PermanentByText(text),
        };
    }

    private static RcptOutcome PermanentByText(string text)
    {
        if (ContainsAny(text, Policy))
        {
            return RcptOutcome.PolicyRefusal;
        }

        return ContainsAny(text, NoSuchUser) ? RcptOutcome.Rejected : RcptOutcome.Unexplained;
    }

    private static bool ContainsAny(string text, IEnumerable<string> phrases) =>
        phrases.Any(phrase => text.Contains(phrase, StringComparison.Ordinal));
}
