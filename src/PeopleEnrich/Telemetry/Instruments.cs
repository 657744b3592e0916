using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PeopleEnrich.Telemetry;

/// <summary>
/// The service's meter and activity source, and every counter it keeps. Any room may count here; this room uses
/// no other, so it holds instruments only. Labels take a handful of values each (a status, a source's name, a
/// reply's class), never a domain, a name, an address or an account: what a label holds is kept by Prometheus
/// for every value it ever had. Nothing is counted while nobody listens (metrics off), and nothing is traced while
/// no exporter is configured: an instrument without a listener does nothing.
/// </summary>
public static class Instruments
{
    /// <summary>The name of the meter and of the activity source, for the exporters to subscribe to.</summary>
    public const string Name = "PeopleEnrich";

    private static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString();

    private static readonly Meter Meter = new(Name, Version);

    /// <summary>Spans: the worker's item (a child of the POST that submitted it), and each source asked for it.</summary>
    public static readonly ActivitySource Traces = new(Name, Version);

    private static readonly Counter<long> ItemsSettled = Meter.CreateCounter<long>(
        "peopleenrich.items.settled", "{item}", "Items that reached their final status (COMPLETED or FAILED).");

    private static readonly Counter<long> ItemsPutOff = Meter.CreateCounter<long>(
        "peopleenrich.items.put_off", "{item}", "Items put back on the queue to be asked again later, by reason.");

    private static readonly Counter<long> LeaseTakeOvers = Meter.CreateCounter<long>(
        "peopleenrich.leases.taken_over", "{item}", "Items claimed after the lease of the worker holding them ran out (a dead or stuck worker).");

    private static readonly Counter<long> CreditsCharged = Meter.CreateCounter<long>(
        "peopleenrich.credits.charged", "{credit}", "Credits charged for settled items.");

    private static readonly Counter<long> SourceOutcomes = Meter.CreateCounter<long>(
        "peopleenrich.source.outcomes", "{ask}", "Sources asked for a person, by source and outcome.");

    private static readonly Histogram<double> SourceDuration = Meter.CreateHistogram<double>(
        "peopleenrich.source.duration", "s", "How long a source took for one person, by source and outcome.", tags: null,
        // From a cache hit (milliseconds) to an email finder waiting in its domain's lane (minutes).
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });

    private static readonly Counter<long> SmtpReplies = Meter.CreateCounter<long>(
        "peopleenrich.smtp.replies", "{reply}", "SMTP replies that decided something, by step and class.");

    private static readonly Counter<long> RcptSent = Meter.CreateCounter<long>(
        "peopleenrich.smtp.rcpt", "{command}", "RCPT TO commands sent.");

    private static readonly Counter<long> SmtpSessionsOpened = Meter.CreateCounter<long>(
        "peopleenrich.smtp.sessions", "{session}", "Verification sessions opened (greeted, through MAIL FROM).");

    private static readonly UpDownCounter<long> SmtpSessionsOpen = Meter.CreateUpDownCounter<long>(
        "peopleenrich.smtp.sessions.open", "{session}", "Verification sessions open now.");

    private static readonly Counter<long> PagesFetched = Meter.CreateCounter<long>(
        "peopleenrich.website.pages", "{request}", "Website page requests, by outcome (robots.txt not counted).");

    private static readonly Counter<long> UpstreamCalls = Meter.CreateCounter<long>(
        "peopleenrich.upstream.calls", "{call}", "Calls to upstream providers, by upstream (its configured name) and outcome.");

    private static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>(
        "peopleenrich.webhooks.deliveries", "{attempt}", "Webhook delivery attempts, by outcome.");

    /// <param name="outcome">delivered, retrying, gave_up, disabled (a 410) or gone (the request no longer exists).</param>
    public static void WebhookAttempted(string outcome) => WebhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="status">The final status, COMPLETED or FAILED.</param>
    public static void ItemSettled(string status, long charged)
    {
        ItemsSettled.Add(1, new KeyValuePair<string, object?>("status", status.ToLowerInvariant()));
        if (charged > 0)
        {
            CreditsCharged.Add(charged);
        }
    }

    /// <param name="reason">failure, greylisting or outage.</param>
    public static void ItemPutOff(string reason) => ItemsPutOff.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void LeasesTakenOver(int count)
    {
        if (count > 0)
        {
            LeaseTakeOvers.Add(count);
        }
    }

    /// <param name="source">The source's name (a fixed word, or an upstream's configured name).</param>
    /// <param name="outcome">One of <see cref="SourceOutcome"/>'s words.</param>
    public static void SourceAsked(string source, string outcome, TimeSpan took)
    {
        var tags = new TagList { { "source", source }, { "outcome", outcome } };
        SourceOutcomes.Add(1, tags);
        SourceDuration.Record(took.TotalSeconds, tags);
    }

    /// <param name="step">greeting, ehlo, mail_from or rcpt.</param>
    /// <param name="replyClass">One of <see cref="SmtpReplyClass"/>'s words.</param>
    public static void SmtpReply(string step, string replyClass) =>
        SmtpReplies.Add(1, new KeyValuePair<string, object?>("step", step), new KeyValuePair<string, object?>("class", replyClass));

    public static void RcptCommandSent() => RcptSent.Add(1);

    public static void SmtpSessionOpened()
    {
        SmtpSessionsOpened.Add(1);
        SmtpSessionsOpen.Add(1);
    }

    public static void SmtpSessionClosed() => SmtpSessionsOpen.Add(-1);

    /// <param name="outcome">page, redirect, no_page, server_error or unreachable.</param>
    public static void PageFetched(string outcome) => PagesFetched.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="upstream">The upstream's configured name (Upstreams:N:Name), chosen by the operator.</param>
    /// <param name="outcome">ok, rejected, throttled, server_error, timed_out, circuit_open or unreachable.</param>
    public static void UpstreamCalled(string upstream, string outcome) =>
        UpstreamCalls.Add(1, new KeyValuePair<string, object?>("upstream", upstream), new KeyValuePair<string, object?>("outcome", outcome));
}

/// <summary>The words of a source's outcome, as the waterfall saw it.</summary>
public static class SourceOutcome
{
    /// <summary>It gave an address or a number.</summary>
    public const string Found = "found";

    /// <summary>It looked and found nothing.</summary>
    public const string Empty = "empty";

    /// <summary>It said it could not check something (DNS or a server that did not answer, a refusal of us, an upstream down).</summary>
    public const string CouldNotCheck = "could_not_check";

    /// <summary>It asked for the person to be asked again later (greylisting).</summary>
    public const string Deferred = "deferred";

    /// <summary>It ran out of the waterfall's time for one source.</summary>
    public const string TimedOut = "timed_out";

    /// <summary>It threw.</summary>
    public const string Failed = "failed";
}

/// <summary>The classes SMTP replies are counted in.</summary>
public static class SmtpReplyClass
{
    /// <summary>250/251 to RCPT: the server would take mail for the address.</summary>
    public const string Accepted = "accepted";

    /// <summary>A permanent "no such mailbox" (or a disabled one).</summary>
    public const string Rejected = "rejected";

    /// <summary>A 4xx to RCPT other than 421: greylisting, a busy server; asked again later.</summary>
    public const string Greylisted = "greylisted";

    /// <summary>A refusal of us rather than of the address: policy, block lists, or any 5xx before RCPT.</summary>
    public const string RefusedUs = "refused_us";

    /// <summary>421, "too many recipients", or a reply that came slowly after a rejection (tarpitting).</summary>
    public const string Throttled = "throttled";

    /// <summary>A 4xx before RCPT (other than 421): the server cannot talk now.</summary>
    public const string Deferred = "deferred";

    /// <summary>The mailbox exists but is full.</summary>
    public const string MailboxFull = "mailbox_full";

    /// <summary>A reply that says nothing attributable to the address or to us.</summary>
    public const string Unexplained = "unexplained";
}
