using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// A running simulated mail world on loopback: an authoritative DNS server (UDP and TCP on 127.0.0.1), one SMTP
/// server per mail host, each on its own 127.0.0.x at the same port, and websites over HTTP and HTTPS, each site on
/// its own 127.0.0.x (shared with the domain's implicit MX) at the same two ports. Start with <see cref="StartAsync(WorldDescription, CancellationToken)"/>;
/// dispose to stop.
/// </summary>
public sealed class MailWorld : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, MailHost> _hostsByName;
    private readonly Dictionary<string, DomainDescription> _domains;
    private readonly Dictionary<string, Website> _websitesByName;
    private readonly HttpRequestLog _httpRequests = new();
    private readonly ConcurrentDictionary<(string Name, string Type), int> _dnsQueries = new();
    private readonly ConcurrentDictionary<(string Client, string From, string To), DateTimeOffset> _greylist = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private DnsService? _dns;
    private WebServer? _web;
    private long _sessionIds;
    private int _dataAttempts;

    private MailWorld(WorldDescription description, TimeProvider time, IReadOnlyList<MailHost> hosts, IReadOnlyList<Website> websites)
    {
        Description = description;
        Time = time;
        Hosts = hosts;
        Websites = websites;
        _hostsByName = hosts.ToDictionary(h => h.Name);
        _domains = description.Domains.ToDictionary(d => Names.Normalize(d.Name));
        _websitesByName = websites.SelectMany(w => w.HostNames, (w, name) => (w, name)).ToDictionary(x => x.name, x => x.w);
        Certificate = CreateCertificate(hosts.Select(h => h.Name).Concat(websites.SelectMany(w => w.HostNames)));
        CertificatePem = Certificate.ExportCertificatePem();
    }

    public WorldDescription Description { get; }

    /// <summary>The clock of greylisting (delays and timeouts use real time).</summary>
    public TimeProvider Time { get; }

    /// <summary>Where the DNS server answers, over UDP and TCP: 127.0.0.1 and the chosen port.</summary>
    public IPEndPoint DnsEndPoint => _dns?.EndPoint ?? throw new InvalidOperationException("Not started.");

    /// <summary>The port every mail host listens on.</summary>
    public int SmtpPort { get; private set; }

    /// <summary>Every mail host, in address order.</summary>
    public IReadOnlyList<MailHost> Hosts { get; }

    /// <summary>The port every website answers HTTP on (what was asked for when no website listens for HTTP).</summary>
    public int HttpPort => _web?.HttpPort ?? Description.HttpPort;

    /// <summary>The port every website answers HTTPS on (what was asked for when no website listens for HTTPS).</summary>
    public int HttpsPort => _web?.HttpsPort ?? Description.HttpsPort;

    /// <summary>Every website, in address order of allocation.</summary>
    public IReadOnlyList<Website> Websites { get; }

    /// <summary>
    /// The self-signed certificate served after STARTTLS and over HTTPS (subject CN=MailWorld; SANs: localhost, every
    /// mail host name, every website's domain and www.domain).
    /// </summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The public part of <see cref="Certificate"/> in PEM, for a client to trust it.</summary>
    public string CertificatePem { get; }

    /// <summary>Every HTTP request the websites received, in arrival order, until <see cref="ResetObservations"/>.</summary>
    public IReadOnlyList<HttpRequestRecord> HttpRequests => _httpRequests.Records;

    /// <summary>Requests whose Host header is the domain or www.domain.</summary>
    public int HttpRequestCount(string domain)
    {
        var name = Names.Normalize(domain);
        return HttpRequests.Count(r => r.Host == name || r.Host == "www." + name);
    }

    public int TotalHttpRequests => _httpRequests.Count;

    /// <summary>Requests being answered right now (a long body still streaming, say).</summary>
    public int ActiveHttpRequests => _httpRequests.Active;

    /// <summary>
    /// Completes when no request is being answered: after a client hangs up mid-body, the server may take a moment to
    /// notice, and <see cref="HttpRequestRecord.BytesSent"/> is final only then.
    /// </summary>
    public Task WhenHttpIdleAsync(CancellationToken cancellationToken = default) => _httpRequests.WhenIdleAsync(cancellationToken);

    /// <summary>DATA/BDAT commands received by any host. Always refused; every test should assert this is 0.</summary>
    public int DataAttempts => Volatile.Read(ref _dataAttempts);

    /// <summary>What went against the world's rules (DATA attempts), one line each. Never cleared.</summary>
    public IReadOnlyList<string> Violations => _violations.ToArray();

    /// <summary>DNS queries received, per (lower-case name without trailing dot, record type such as "MX", "A").</summary>
    public IReadOnlyDictionary<(string Name, string Type), int> DnsQueries => new Dictionary<(string, string), int>(_dnsQueries);

    public int DnsQueryCount(string name, string type) =>
        _dnsQueries.TryGetValue((Names.Normalize(name), type.ToUpperInvariant()), out var n) ? n : 0;

    public int TotalDnsQueries => _dnsQueries.Values.Sum();
    public int TotalSessions => Hosts.Sum(h => h.Sessions);
    public int TotalRcptCommands => Hosts.Sum(h => h.RcptCommands);

    /// <summary>The host of that name; throws when there is none.</summary>
    public MailHost Host(string name) =>
        _hostsByName.TryGetValue(Names.Normalize(name), out var h) ? h : throw new KeyNotFoundException($"No mail host '{name}' in this world.");

    /// <summary>The website of a domain (by its domain or www. name); throws when there is none.</summary>
    public Website Website(string domain) =>
        _websitesByName.TryGetValue(Names.Normalize(domain), out var w) ? w : throw new KeyNotFoundException($"No website '{domain}' in this world.");

    /// <summary>The hosts serving a domain (its MX hosts, or itself as implicit MX), by preference.</summary>
    public IReadOnlyList<MailHost> HostsOf(string domain) =>
        Hosts.Where(h => h.Domains.Contains(Names.Normalize(domain))).ToArray();

    /// <summary>Clears transcripts, session/RCPT counters, DNS query counters and the HTTP request log. DataAttempts and Violations stay.</summary>
    public void ResetObservations()
    {
        foreach (var h in Hosts) h.ResetCounters();
        _dnsQueries.Clear();
        _httpRequests.Clear();
    }

    /// <summary>Forgets every greylisting triple seen.</summary>
    public void ResetGreylist() => _greylist.Clear();

    public static Task<MailWorld> StartAsync(WorldDescription description, CancellationToken cancellationToken = default) =>
        StartAsync(description, TimeProvider.System, cancellationToken);

    public static async Task<MailWorld> StartAsync(WorldDescription description, TimeProvider time, CancellationToken cancellationToken = default)
    {
        Validate(description);
        var addresses = new LoopbackAddresses();
        var hosts = BuildHosts(description, addresses);
        var world = new MailWorld(description, time, hosts, BuildWebsites(description, hosts, addresses));
        try
        {
            world._dns = DnsService.Start(world, description.DnsPort);
            world.StartSmtp(description.SmtpPort);
            world._web = await WebServer.StartAsync(world.Websites, description.HttpPort, description.HttpsPort, world.Certificate,
                world._httpRequests, world._stop.Token);
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
        cancellationToken.ThrowIfCancellationRequested();
        return world;
    }

    internal DomainDescription? Domain(string name) => _domains.GetValueOrDefault(name);

    internal MailHost? HostByName(string name) => _hostsByName.GetValueOrDefault(name);

    internal Website? WebsiteByName(string name) => _websitesByName.GetValueOrDefault(name);

    internal void CountDnsQuery(string name, string type) => _dnsQueries.AddOrUpdate((name, type), 1, (_, n) => n + 1);

    internal void RecordDataAttempt(MailHost host, string client, string line)
    {
        Interlocked.Increment(ref _dataAttempts);
        host.CountData();
        _violations.Enqueue($"{Time.GetUtcNow():O} {host.Name}: {client} sent '{line}'");
    }

    /// <summary>
    /// True when the triple must still be greylisted: first seen less than the delay ago (the first sight records it; a
    /// retry does not move it). Keyed like postgrey --lookup-by-host: the client's whole address, the sender and the
    /// recipient, both without regard to case.
    /// </summary>
    internal bool IsGreylisted(string client, string from, string to, TimeSpan delay)
    {
        var now = Time.GetUtcNow();
        var first = _greylist.GetOrAdd((client, from.ToLowerInvariant(), to.ToLowerInvariant()), now);
        return now - first < delay;
    }

    private static void Validate(WorldDescription d)
    {
        var seen = new HashSet<string>();
        foreach (var domain in d.Domains)
        {
            if (string.IsNullOrWhiteSpace(domain.Name)) throw new InvalidDataException("A domain has no name.");
            var name = Names.Normalize(domain.Name);
            if (!seen.Add(name)) throw new InvalidDataException($"Domain '{name}' is described twice.");
            if (domain.NullMx && domain.Mx is { Count: > 0 }) throw new InvalidDataException($"Domain '{name}': null_mx excludes mx records.");
            if (domain.MxAddress is not null && !IPAddress.TryParse(domain.MxAddress, out _))
                throw new InvalidDataException($"Domain '{name}': mx_address '{domain.MxAddress}' is not an IP address.");
            if (domain.MxAddress is not null && domain.RefuseConnections)
                throw new InvalidDataException($"Domain '{name}': refuse_connections excludes mx_address (that address is not ours to refuse on).");
            if (domain.Mx is not null && domain.Mx.Any(m => string.IsNullOrWhiteSpace(m.Host)))
                throw new InvalidDataException($"Domain '{name}': an MX record has no host.");
            if (domain.Behaviour == Behaviour.RateLimited && !SmtpReply.IsValid(domain.RateLimitReply))
                throw new InvalidDataException($"Domain '{name}': rate_limit_reply '{domain.RateLimitReply}' is not an SMTP reply (3 digits, a space, text).");
            if (domain.ErrorLimits is { } limits && (limits.SoftErrorLimit < 1 || limits.HardErrorLimit < 1 || limits.ErrorSleepMs < 0))
                throw new InvalidDataException($"Domain '{name}': error_limits need soft_error_limit and hard_error_limit of at least 1 (as Postfix) and error_sleep_ms of at least 0.");
            if (domain.Website is { } site)
            {
                foreach (var problem in PeopleEnrich.MailWorld.Website.Problems(site))
                    throw new InvalidDataException($"Domain '{name}': website: {problem}.");
            }
        }
        if (new[] { d.DnsPort, d.SmtpPort, d.HttpPort, d.HttpsPort }.Any(p => p is < 0 or > 65535)) throw new InvalidDataException("Ports must be 0..65535.");
        foreach (var problem in AddressZones.Problems(d)) throw new InvalidDataException($"The world's {problem}.");
    }

    /// <summary>Hosts in order of first mention; loopback ones get 127.0.0.2, .3, … (skipping .0, .1 and .255 of each /24).</summary>
    private static List<MailHost> BuildHosts(WorldDescription d, LoopbackAddresses addresses)
    {
        var hosts = new List<MailHost>();
        var byName = new Dictionary<string, MailHost>();
        foreach (var domain in d.Domains)
        {
            var dname = Names.Normalize(domain.Name);
            if (domain.NullMx) continue;
            var names = domain.Mx is { Count: > 0 } mx
                ? mx.Where(m => !m.NoAddress).OrderBy(m => m.Preference).Select(m => Names.Normalize(m.Host)).ToList()
                : domain.A ? [dname] : [];
            foreach (var name in names)
            {
                if (!byName.TryGetValue(name, out var host))
                {
                    var ours = domain.MxAddress is null;
                    var address = ours ? addresses.Next() : IPAddress.Parse(domain.MxAddress!);
                    host = new MailHost(name, address, ours && !domain.RefuseConnections, ours && domain.RefuseConnections, domain);
                    byName[name] = host;
                    hosts.Add(host);
                }
                if (!host._domains.Contains(dname)) host._domains.Add(dname);
            }
        }
        return hosts;
    }

    /// <summary>
    /// Websites after every mail host, so that adding one moves no host's address. A site shares the address of the
    /// mail host named like its domain (the implicit MX), listening only if that host does.
    /// </summary>
    private static List<Website> BuildWebsites(WorldDescription d, IReadOnlyList<MailHost> hosts, LoopbackAddresses addresses)
    {
        var websites = new List<Website>();
        foreach (var domain in d.Domains)
        {
            if (domain.Website is not { } site) continue;
            var name = Names.Normalize(domain.Name);
            var host = hosts.FirstOrDefault(h => h.Name == name);
            if (host is not null && site.Address is not null && !IPAddress.Parse(site.Address).Equals(host.Address))
                throw new InvalidDataException($"Domain '{name}': its website shares the address of mail host '{name}' ({host.Address}); set mx_address rather than website.address.");
            var website = host is not null
                ? new Website(name, host.Address, host.Listening || host.RefusesConnections, site)
                : site.Address is { } fixedAddress
                    ? new Website(name, IPAddress.Parse(fixedAddress), listening: false, site)
                    : new Website(name, addresses.Next(), listening: true, site);
            websites.Add(website);
        }
        var clash = websites.SelectMany(w => w.HostNames).GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new InvalidDataException($"Two websites answer at '{clash.Key}' (a domain's website also answers at its www. name).");
        return websites;
    }

    /// <summary>
    /// Binds every host's address at one port. Listening hosts listen and accept; refusing hosts stay bound without
    /// listening, so that the kernel resets a connection there (refused) and nothing else can take the port meanwhile.
    /// </summary>
    private void StartSmtp(int requestedPort)
    {
        var bound = Hosts.Where(h => h.Listening || h.RefusesConnections).ToList();
        var (port, sockets) = SamePortSockets.Bind(bound.Select(h => h.Address).ToList(), requestedPort);
        SmtpPort = port;
        _listeners.AddRange(sockets);
        for (var i = 0; i < bound.Count; i++)
        {
            if (!bound[i].Listening) continue;
            sockets[i].Listen(512);
            bound[i].EndPoint = new IPEndPoint(bound[i].Address, port);
            _acceptLoops.Add(AcceptLoop(bound[i], sockets[i]));
        }
    }

    private async Task AcceptLoop(MailHost host, Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = new TcpClient { Client = await listener.AcceptAsync(_stop.Token) }; }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { if (_stop.IsCancellationRequested) return; continue; }
            var id = Interlocked.Increment(ref _sessionIds);
            var session = new SmtpSession(this, host, client, id);
            _sessions[id] = Task.Run(async () =>
            {
                try { await session.RunAsync(_stop.Token); }
                finally { _sessions.TryRemove(id, out _); }
            });
        }
    }

    private static X509Certificate2 CreateCertificate(IEnumerable<string> hostNames)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=MailWorld", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        foreach (var name in hostNames) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        foreach (var l in _listeners) l.Dispose();
        if (_web is not null) await _web.DisposeAsync();
        if (_dns is not null) await _dns.StopAsync();
        var pending = _acceptLoops.Concat(_sessions.Values).ToArray();
        try { await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10)); }
        catch { /* sessions end on cancellation; a stuck one must not hang disposal */ }
        Certificate.Dispose();
    }
}

internal static class Names
{
    public static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();
}
