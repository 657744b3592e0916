using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// A running simulated mail world on loopback: an authoritative DNS server (UDP and TCP on 127.0.0.1) and one SMTP
/// server per mail host, each on its own 127.0.0.x at the same port. Start with <see cref="StartAsync(WorldDescription, CancellationToken)"/>;
/// dispose to stop.
/// </summary>
public sealed class MailWorld : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, MailHost> _hostsByName;
    private readonly Dictionary<string, DomainDescription> _domains;
    private readonly ConcurrentDictionary<(string Name, string Type), int> _dnsQueries = new();
    private readonly ConcurrentDictionary<(string Client, string From, string To), DateTimeOffset> _greylist = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private DnsService? _dns;
    private long _sessionIds;
    private int _dataAttempts;

    private MailWorld(WorldDescription description, TimeProvider time, IReadOnlyList<MailHost> hosts)
    {
        Description = description;
        Time = time;
        Hosts = hosts;
        _hostsByName = hosts.ToDictionary(h => h.Name);
        _domains = description.Domains.ToDictionary(d => Names.Normalize(d.Name));
        Certificate = CreateCertificate(hosts.Select(h => h.Name));
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

    /// <summary>The self-signed certificate served after STARTTLS (subject CN=MailWorld, every host name as a SAN).</summary>
    public X509Certificate2 Certificate { get; }

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

    /// <summary>The hosts serving a domain (its MX hosts, or itself as implicit MX), by preference.</summary>
    public IReadOnlyList<MailHost> HostsOf(string domain) =>
        Hosts.Where(h => h.Domains.Contains(Names.Normalize(domain))).ToArray();

    /// <summary>Clears transcripts, session/RCPT counters and DNS query counters. DataAttempts and Violations stay.</summary>
    public void ResetObservations()
    {
        foreach (var h in Hosts) h.ResetCounters();
        _dnsQueries.Clear();
    }

    /// <summary>Forgets every greylisting triple seen.</summary>
    public void ResetGreylist() => _greylist.Clear();

    public static Task<MailWorld> StartAsync(WorldDescription description, CancellationToken cancellationToken = default) =>
        StartAsync(description, TimeProvider.System, cancellationToken);

    public static async Task<MailWorld> StartAsync(WorldDescription description, TimeProvider time, CancellationToken cancellationToken = default)
    {
        Validate(description);
        var world = new MailWorld(description, time, BuildHosts(description));
        try
        {
            world._dns = DnsService.Start(world, description.DnsPort);
            world.StartSmtp(description.SmtpPort);
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

    internal void CountDnsQuery(string name, string type) => _dnsQueries.AddOrUpdate((name, type), 1, (_, n) => n + 1);

    internal void RecordDataAttempt(MailHost host, string client, string line)
    {
        Interlocked.Increment(ref _dataAttempts);
        host.CountData();
        _violations.Enqueue($"{Time.GetUtcNow():O} {host.Name}: {client} sent '{line}'");
    }

    /// <summary>True when the triple must still be greylisted (first seen less than the delay ago; first sight records it).</summary>
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
            if (domain.Mx is not null && domain.Mx.Any(m => string.IsNullOrWhiteSpace(m.Host)))
                throw new InvalidDataException($"Domain '{name}': an MX record has no host.");
            if (domain.Behaviour == Behaviour.RateLimited && !SmtpReply.IsValid(domain.RateLimitReply))
                throw new InvalidDataException($"Domain '{name}': rate_limit_reply '{domain.RateLimitReply}' is not an SMTP reply (3 digits, a space, text).");
        }
        if (d.DnsPort is < 0 or > 65535 || d.SmtpPort is < 0 or > 65535) throw new InvalidDataException("Ports must be 0..65535.");
    }

    /// <summary>Hosts in order of first mention; loopback ones get 127.0.0.2, .3, … (skipping .0, .1 and .255 of each /24).</summary>
    private static List<MailHost> BuildHosts(WorldDescription d)
    {
        var hosts = new List<MailHost>();
        var byName = new Dictionary<string, MailHost>();
        var next = 2;
        foreach (var domain in d.Domains)
        {
            var dname = Names.Normalize(domain.Name);
            if (domain.NullMx) continue;
            var names = domain.Mx is { Count: > 0 } mx
                ? mx.OrderBy(m => m.Preference).Select(m => Names.Normalize(m.Host)).ToList()
                : domain.A ? [dname] : [];
            foreach (var name in names)
            {
                if (!byName.TryGetValue(name, out var host))
                {
                    var listening = domain.MxAddress is null;
                    IPAddress address;
                    if (listening)
                    {
                        while (next % 256 is 0 or 1 or 255) next++;
                        address = new IPAddress([127, (byte)(next >> 16), (byte)(next >> 8), (byte)next]);
                        next++;
                    }
                    else address = IPAddress.Parse(domain.MxAddress!);
                    host = new MailHost(name, address, listening, domain);
                    byName[name] = host;
                    hosts.Add(host);
                }
                if (!host._domains.Contains(dname)) host._domains.Add(dname);
            }
        }
        return hosts;
    }

    private void StartSmtp(int requestedPort)
    {
        var listening = Hosts.Where(h => h.Listening).ToList();
        SmtpPort = requestedPort;
        if (listening.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            var port = requestedPort;
            var started = new List<TcpListener>();
            try
            {
                foreach (var host in listening)
                {
                    var l = new TcpListener(host.Address, port);
                    l.Start(512);
                    started.Add(l);
                    if (port == 0) port = ((IPEndPoint)l.LocalEndpoint).Port;
                }
            }
            catch (SocketException) when (requestedPort == 0 && attempt < 20)
            {
                foreach (var l in started) l.Stop();
                continue;
            }
            catch
            {
                foreach (var l in started) l.Stop();
                throw;
            }
            SmtpPort = port;
            for (var i = 0; i < listening.Count; i++)
            {
                listening[i].EndPoint = new IPEndPoint(listening[i].Address, port);
                _listeners.Add(started[i]);
                _acceptLoops.Add(AcceptLoop(listening[i], started[i]));
            }
            return;
        }
    }

    private async Task AcceptLoop(MailHost host, TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(_stop.Token); }
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
        foreach (var l in _listeners) l.Stop();
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
