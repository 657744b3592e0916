using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeopleEnrich.MailWorld;

/// <summary>A whole simulated mail world: its DNS server, its SMTP port and its domains. Read from snake_case JSON.</summary>
public sealed record WorldDescription
{
    /// <summary>UDP and TCP port of the DNS server on 127.0.0.1; 0 picks a free one (see <see cref="MailWorld.DnsEndPoint"/>).</summary>
    public int DnsPort { get; init; }

    /// <summary>The port every mail host listens on (each at its own 127.0.0.x); 0 picks one free on every host address.</summary>
    public int SmtpPort { get; init; }

    /// <summary>TTL in seconds of every DNS record unless a domain says otherwise.</summary>
    public int Ttl { get; init; } = 300;

    /// <summary>Delay before every DNS answer, in milliseconds (a domain's own <c>dns_delay_ms</c> adds to it).</summary>
    public int DnsDelayMs { get; init; }

    /// <summary>An SMTP session idle this long is closed with "421 4.4.2 Idle timeout".</summary>
    public int IdleTimeoutSeconds { get; init; } = 60;

    /// <summary>The port every website answers HTTP on (each at its own 127.0.0.x); 0 picks one free on every website address.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int HttpPort { get; init; }

    /// <summary>The port every website answers HTTPS on; 0 picks one free on every website address.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int HttpsPort { get; init; }

    public IReadOnlyList<DomainDescription> Domains { get; init; } = [];

    /// <summary>DNS block lists (DNSBLs) the DNS server answers for, such as zen.spamhaus.org; none when null.</summary>
    public IReadOnlyList<BlockListDescription>? BlockLists { get; init; }

    /// <summary>PTR records: an address (IPv4 or IPv6, e.g. "127.0.0.1") to the name its reverse lookup answers; none when null.</summary>
    public IReadOnlyDictionary<string, string>? Ptr { get; init; }

    public static WorldDescription Parse(string json) =>
        JsonSerializer.Deserialize<WorldDescription>(json, WorldJson.Options)
        ?? throw new InvalidDataException("The world description is JSON null.");

    public static WorldDescription Load(string path) => Parse(File.ReadAllText(path));

    public string ToJson() => JsonSerializer.Serialize(this, WorldJson.Options);
}

/// <summary>One domain of the world: its DNS records and how its mail servers behave.</summary>
public sealed record DomainDescription
{
    public required string Name { get; init; }

    /// <summary>MX records. Each host gets its own 127.0.0.x (unless <see cref="MxAddress"/> is set) and an SMTP listener.</summary>
    public IReadOnlyList<MxDescription>? Mx { get; init; }

    /// <summary>The domain itself has an A record. Without MX records it is then the implicit MX (RFC 5321 §5.1) and gets an SMTP listener.</summary>
    public bool A { get; init; }

    /// <summary>RFC 7505 null MX ("0 ."): the domain accepts no mail. Excludes <see cref="Mx"/>.</summary>
    public bool NullMx { get; init; }

    /// <summary>When set, the A records of this domain's mail hosts answer this address (e.g. 10.0.0.5) and no listener is started for them.</summary>
    public string? MxAddress { get; init; }

    /// <summary>
    /// Every mail host of the domain refuses connections: it gets its own 127.0.0.x, which DNS answers, but nothing listens
    /// there (a connection is reset, ECONNREFUSED), as when the server is down. Excludes <see cref="MxAddress"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RefuseConnections { get; init; }

    /// <summary>Local parts (before the @) that exist. Compared case-insensitively.</summary>
    public IReadOnlyList<string> Mailboxes { get; init; } = [];

    /// <summary>
    /// Local parts whose mailbox exists but is over quota: RCPT answers "552 5.2.2 … Mailbox full", as Postfix does with
    /// Dovecot's quota-status policy service. Compared case-insensitively; a catch-all domain accepts them anyway.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<string>? FullMailboxes { get; init; }

    public Behaviour Behaviour { get; init; } = Behaviour.Normal;

    /// <summary>
    /// greylist: a (client IP, MAIL FROM, RCPT TO) triple first seen less than this long ago gets postgrey's 450; the
    /// default is postgrey's --delay.
    /// </summary>
    public int GreylistSeconds { get; init; } = 300;

    /// <summary>Delay before every SMTP reply, banner included. Default 1000 for behaviour slow, 0 otherwise.</summary>
    public int? ReplyDelayMs { get; init; }

    /// <summary>busy: concurrent sessions allowed per host; the next gets "421 4.7.0 Too many connections".</summary>
    public int MaxSessions { get; init; } = 1;

    /// <summary>rate_limited: RCPT commands allowed per session; later ones get <see cref="RateLimitReply"/>.</summary>
    public int MaxRecipients { get; init; } = 3;

    public string RateLimitReply { get; init; } = "452 4.5.3 Too many recipients";

    /// <summary>policy_block: where the block happens.</summary>
    public BlockAt BlockAt { get; init; } = BlockAt.Connect;

    public StartTls Starttls { get; init; } = StartTls.None;

    /// <summary>tarpit: delay before the banner, in milliseconds.</summary>
    public int TarpitMs { get; init; } = 10_000;

    /// <summary>
    /// Postfix's per-session error limits, any behaviour; null: none, except for <see cref="Behaviour.Postfix"/>, which has
    /// Postfix's defaults (see <see cref="EffectiveErrorLimits"/>). In JSON, <c>"error_limits": {}</c> turns them on with
    /// those defaults.
    /// </summary>
    public ErrorLimits? ErrorLimits { get; init; }

    /// <summary>Delay before DNS answers about this domain and names under it, added to the world's.</summary>
    public int DnsDelayMs { get; init; }

    /// <summary>DNS answers SERVFAIL to every question about this domain and names under it, as when its name servers are broken.</summary>
    public bool DnsServfail { get; init; }

    /// <summary>TTL of this domain's records; the world's when absent.</summary>
    public int? Ttl { get; init; }

    /// <summary>
    /// A website: the domain (and www.domain) then resolve to its own 127.0.0.x, shared with the domain's implicit MX
    /// when it has one, and HTTP/HTTPS listeners serve its pages there.
    /// </summary>
    public WebsiteDescription? Website { get; init; }

    internal int EffectiveReplyDelayMs => ReplyDelayMs ?? (Behaviour == Behaviour.Slow ? 1000 : 0);

    /// <summary>The error limits the domain's hosts apply: <see cref="ErrorLimits"/>, or Postfix's defaults for behaviour postfix.</summary>
    public ErrorLimits? EffectiveErrorLimits => ErrorLimits ?? (Behaviour == Behaviour.Postfix ? new ErrorLimits() : null);
}

/// <summary>
/// Postfix smtpd's error limits. A session's error count goes up by one for every command answered 4xx or 5xx (a
/// rejected recipient, an unknown command, …). Once it reaches <see cref="SoftErrorLimit"/>, every reply waits
/// <see cref="ErrorSleepMs"/> first; when it reaches <see cref="HardErrorLimit"/>, the server answers
/// "421 4.7.0 &lt;host&gt; Error: too many errors" and closes the connection. The defaults are Postfix's.
/// </summary>
public sealed record ErrorLimits
{
    /// <summary>smtpd_soft_error_limit: errors after which every reply is delayed (Postfix: 10).</summary>
    public int SoftErrorLimit { get; init; } = 10;

    /// <summary>smtpd_error_sleep_time, in milliseconds: the delay before each reply past the soft limit (Postfix: 1s).</summary>
    public int ErrorSleepMs { get; init; } = 1000;

    /// <summary>smtpd_hard_error_limit: errors at which the server says 421 and hangs up (Postfix: 20).</summary>
    public int HardErrorLimit { get; init; } = 20;
}

/// <summary>
/// A DNS block list: a query for an address's reversed octets under the zone (1.0.0.127.zen.spamhaus.org for
/// 127.0.0.1) answers A <see cref="Answer"/> when the address is listed and NXDOMAIN when it is not, as DNSBLs do.
/// </summary>
public sealed record BlockListDescription
{
    /// <summary>The zone, e.g. "zen.spamhaus.org".</summary>
    public required string Zone { get; init; }

    /// <summary>The listed addresses (IPv4, or IPv6 written as nibbles under the zone).</summary>
    public IReadOnlyList<string> Listed { get; init; } = [];

    /// <summary>The A record a listed address answers: its return code (Spamhaus: 127.0.0.2 for the SBL, 127.0.0.4 for the XBL, …).</summary>
    public string Answer { get; init; } = "127.0.0.2";
}

public sealed record MxDescription
{
    public ushort Preference { get; init; } = 10;
    public required string Host { get; init; }

    /// <summary>
    /// The host's name has no address: no mail host is made for it, so DNS answers NXDOMAIN for it (or NODATA when the
    /// name is a domain of the world without an A record), as when an MX names a host that was retired or never made.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoAddress { get; init; }
}

/// <summary>A domain's website, served at the domain and www.domain over HTTP and HTTPS. Unlisted paths answer 404.</summary>
public sealed record WebsiteDescription
{
    public IReadOnlyList<PageDescription> Pages { get; init; } = [];

    /// <summary>Served as text/plain at /robots.txt; 404 there when absent. Excludes a page of that path.</summary>
    public string? RobotsTxt { get; init; }

    /// <summary>The site answers HTTP; when false nothing listens for it on <see cref="WorldDescription.HttpPort"/>.</summary>
    public bool Http { get; init; } = true;

    /// <summary>The site answers HTTPS; when false nothing listens for it on <see cref="WorldDescription.HttpsPort"/>.</summary>
    public bool Https { get; init; } = true;

    /// <summary>When set (e.g. 10.0.0.5), the domain and www.domain resolve to this address and nothing listens for the site.</summary>
    public string? Address { get; init; }
}

/// <summary>One page of a website.</summary>
public sealed record PageDescription
{
    /// <summary>"/", "/team", "/search?q=x". Without a query it answers that path with any query; with one, only that exact query.</summary>
    public required string Path { get; init; }

    public int Status { get; init; } = 200;

    public string ContentType { get; init; } = "text/html; charset=utf-8";

    /// <summary>The body, sent as UTF-8, with <see cref="PortPlaceholders"/> replaced by the ports. Excludes <see cref="BodyBytes"/>.</summary>
    public string? Body { get; init; }

    /// <summary>The Location header (a redirect's target): an absolute URL or a path, with <see cref="PortPlaceholders"/> replaced.</summary>
    public string? Location { get; init; }

    /// <summary>When set, the body is this many bytes of generated HTML-like filler, streamed as it is sent (never held in memory).</summary>
    public long? BodyBytes { get; init; }

    /// <summary>Narrows the page to one scheme: false keeps it off HTTPS (404 there). Cannot add a scheme the site does not answer.</summary>
    public bool? Https { get; init; }

    /// <summary>Narrows the page to one scheme: false keeps it off HTTP (404 there). Cannot add a scheme the site does not answer.</summary>
    public bool? Http { get; init; }
}

/// <summary>
/// Written in a page's body or location, these become the world's HTTP and HTTPS ports when served, so that a
/// description can link to "https://www.acme.test:{{https_port}}/" before the ports are chosen.
/// </summary>
public static class PortPlaceholders
{
    public const string Http = "{{http_port}}";
    public const string Https = "{{https_port}}";
}

[JsonConverter(typeof(JsonStringEnumConverter<Behaviour>))]
public enum Behaviour
{
    [JsonStringEnumMemberName("normal")] Normal,
    [JsonStringEnumMemberName("catch_all")] CatchAll,
    [JsonStringEnumMemberName("greylist")] Greylist,
    [JsonStringEnumMemberName("slow")] Slow,
    [JsonStringEnumMemberName("busy")] Busy,
    [JsonStringEnumMemberName("rate_limited")] RateLimited,
    [JsonStringEnumMemberName("policy_block")] PolicyBlock,
    [JsonStringEnumMemberName("tarpit")] Tarpit,
    [JsonStringEnumMemberName("m365")] M365,

    /// <summary>A normal server with Postfix's error limits (<see cref="ErrorLimits"/>) on by default.</summary>
    [JsonStringEnumMemberName("postfix")] Postfix,
}

[JsonConverter(typeof(JsonStringEnumConverter<BlockAt>))]
public enum BlockAt
{
    [JsonStringEnumMemberName("connect")] Connect,
    [JsonStringEnumMemberName("mail_from")] MailFrom,

    /// <summary>Every RCPT is refused as Postfix's reject_rbl_client refuses a listed client (smtpd_delay_reject, the default, puts client checks at RCPT).</summary>
    [JsonStringEnumMemberName("rcpt")] Rcpt,
}

[JsonConverter(typeof(JsonStringEnumConverter<StartTls>))]
public enum StartTls
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("offered")] Offered,
    [JsonStringEnumMemberName("required")] Required,
}

/// <summary>
/// The description's JSON, read by reflection rather than by a source-generated context: the generated code builds
/// records with init-only properties through one object initializer that sets every absent field to zero, false or
/// null, which would silently drop the defaults (a ttl of 300, pages answering 200, websites answering both schemes).
/// </summary>
internal static class WorldJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };
}

public static class WorldNames
{
    /// <summary>The JSON spelling of a behaviour ("catch_all", "m365", …).</summary>
    public static string JsonName(this Behaviour b) => b switch
    {
        Behaviour.CatchAll => "catch_all",
        Behaviour.RateLimited => "rate_limited",
        Behaviour.PolicyBlock => "policy_block",
        _ => b.ToString().ToLowerInvariant(),
    };
}
