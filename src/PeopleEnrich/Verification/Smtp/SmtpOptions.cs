namespace PeopleEnrich.Verification.Smtp;

public sealed class SmtpOptions
{
    public bool Enabled { get; set; } = true;

    public int Port { get; set; } = 25;

    /// <summary>Our name in EHLO: the machine's own fully qualified name unless set (a HELO that lies gets blocked).</summary>
    public string? HeloName { get; set; }

    /// <summary>The envelope sender of the probes (no mail is ever sent).</summary>
    public string? MailFrom { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upgrade to TLS when the server offers it; a certificate problem does not stop verification.</summary>
    public bool StartTls { get; set; } = true;

    /// <summary>
    /// When a greylisting server deferred us, come back (same sender, same recipients) at these times after the domain
    /// first deferred us, then every last gap: one schedule per domain, shared by its people. Empty means
    /// <see cref="DefaultGreylistSchedule"/>. An old configuration's single value ("00:05:00") is read as a one-step schedule.
    /// </summary>
    /// <remarks>Empty by default: the configuration binder appends to a list it finds filled.</remarks>
    public List<TimeSpan> GreylistRetryAfter { get; set; } = [];

    /// <summary>1, 3 and 6 minutes: postgrey's default delay is 5 minutes, and most greylisting lists use 1 to 5.</summary>
    public static IReadOnlyList<TimeSpan> DefaultGreylistSchedule { get; } = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(6)];

    public IReadOnlyList<TimeSpan> GreylistSchedule => GreylistRetryAfter.Count > 0 ? GreylistRetryAfter : DefaultGreylistSchedule;

    /// <summary>
    /// How long a recipient's verdict (accepted, rejected) heard by this process is used instead of asking again: a
    /// greylisting retry or the next batch of a run does not pay for it twice. Zero asks every time.
    /// </summary>
    public TimeSpan RememberAnswersFor { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How many times one item may be put off for greylisting before it settles on no verdict: the schedule's three
    /// steps to get past the server's delay, one to wait for the rest of the round the delay passed in, and three more for
    /// what is planted once the first answers came (two rounds of <see cref="GreylistPlantsPerRound"/> a person, then what
    /// is left). Two rounds, not one: a few people at a domain of a rarer shape often spend one round without finding it,
    /// and the last round's "whatever is left" costs each person without a mailbox every candidate twice (finder bench,
    /// postgrey domain of 5 people: 91 RCPT with 6, 37 with 7, the same 3 found).
    /// </summary>
    public int MaxGreylistRetries { get; set; } = 7;

    /// <summary>
    /// Once a greylisting domain's delay has passed, how many new candidates one person plants per round: each planted
    /// recipient costs two RCPTs (deferred, then asked again), and the shapes planted are spread over the domain's people, so
    /// that one acceptance teaches everyone the domain's shape. The last round before <see cref="MaxGreylistRetries"/> plants
    /// whatever is left, so that nothing is left unchecked.
    /// </summary>
    public int GreylistPlantsPerRound { get; set; } = 1;

    /// <summary>
    /// Independent addresses seen in one shape at a domain (known, or found in this lane) that establish it as the
    /// domain's pattern: a person whose candidate in that shape is rejected is then asked only
    /// <see cref="AlternativesWhenEstablished"/> and <see cref="GuessesWhenEstablished"/> more, not every candidate.
    /// </summary>
    public int PatternEstablishedBy { get; set; } = 2;

    /// <summary>Once the pattern is established and the person's candidate in it rejected: how many of the domain's exception shapes (shapes other addresses of it were seen in) are asked.</summary>
    public int AlternativesWhenEstablished { get; set; } = 2;

    /// <summary>And then how many of the likeliest candidates in shapes never seen at the domain.</summary>
    public int GuessesWhenEstablished { get; set; }

    /// <summary>
    /// Before the pattern is established but once an address of the domain was seen in some shape: a person whose candidate
    /// in that shape is rejected is asked at most this many more (the likeliest), not every candidate. One address does not
    /// establish a pattern (it may be an exception), but a person rejected in its shape more likely has no mailbox there.
    /// </summary>
    public int GuessesWhenSeenOnce { get; set; } = 3;

    /// <summary>
    /// At a cold domain (its catch-all status not known), ask the likeliest candidate before the catch-all probe: a "no such
    /// mailbox" to it says the server rejects addresses that do not exist, and the probe is not asked. False asks the probe
    /// first, as a greylisting domain always does.
    /// </summary>
    public bool CandidateBeforeProbe { get; set; } = true;

    public int MaxRcptPerSession { get; set; } = 20;

    /// <summary>
    /// How long a mail host's recipient limit learnt from its "too many recipients" (Microsoft 365: one a session) is
    /// used by every process, at that host and every other of its mail service, before it is learnt again.
    /// </summary>
    public TimeSpan HostLimitsTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Rejected recipients in one session before a new one is started: Postfix slows a client down from its
    /// 10th error in a session (smtpd_soft_error_limit) and hangs up at its 20th, so by default a session ends
    /// after its 9th rejection.
    /// </summary>
    public int MaxRejectionsPerSession { get; set; } = 9;

    /// <summary>
    /// A reply this slow after a rejection in the same session is the server throttling us (Postfix's
    /// smtpd_error_sleep_time is 1 s), not a slow network: the session ends and the next starts afresh.
    /// </summary>
    public TimeSpan ThrottledReply { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>How long a mail host that refused us (a block list, our reputation) is not asked again, by any process.</summary>
    public TimeSpan BlockCooldown { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a mail host that could not be reached at all is not tried again: its domain's other people are answered at once.</summary>
    public TimeSpan UnreachableTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Refusals naming a block list from this many unrelated mail hosts (different parent domains) within
    /// <see cref="BlockListWindow"/> mean our address is listed: all SMTP probing pauses for <see cref="BlockListPause"/>.
    /// </summary>
    public int BlockListPauseHosts { get; set; } = 3;

    public TimeSpan BlockListWindow { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan BlockListPause { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Candidates asked about per person, at most (once a domain's pattern is known, the first is nearly always it).</summary>
    public int MaxCandidates { get; set; } = 15;

    /// <summary>Politeness: sessions open at once to one mail host, from all processes on the database together.</summary>
    public int MaxSessionsPerHost { get; set; } = 2;

    /// <summary>Politeness: the least time between two session starts at one mail host, by any process.</summary>
    public TimeSpan MinSessionGap { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The sending budget of this deployment's outgoing address: RCPT commands in any minute, all processes together;
    /// 0 for none. Reacher's practice (60 a minute, 10,000 a day per IP) is the default.
    /// </summary>
    public int MaxRcptPerMinute { get; set; } = 60;

    /// <summary>RCPT commands in any day, all processes together; 0 for none.</summary>
    public int MaxRcptPerDay { get; set; } = 10_000;

    /// <summary>
    /// "socks5://[user:password@]host:port": verify through this proxy (outbound port 25 is closed on
    /// most clouds). The network guard still checks every mail server's address first.
    /// </summary>
    public string? Socks5Proxy { get; set; }

    public Verification.Network.Socks5Proxy? Proxy => string.IsNullOrWhiteSpace(Socks5Proxy) ? null : Verification.Network.Socks5Proxy.Parse(Socks5Proxy);

    public string EffectiveHeloName => string.IsNullOrWhiteSpace(HeloName) ? LocalHostName.Value : HeloName;

    public string EffectiveMailFrom => string.IsNullOrWhiteSpace(MailFrom) ? $"verify@{EffectiveHeloName}" : MailFrom;

    private static readonly Lazy<string> LocalHostName = new(() =>
    {
        try
        {
            return System.Net.Dns.GetHostEntry(System.Net.Dns.GetHostName()).HostName;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return System.Net.Dns.GetHostName();
        }
    });
}
