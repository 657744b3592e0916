using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// The world's authoritative DNS server (ARSoft.Tools.Net), UDP and TCP on 127.0.0.1 at one port. Answers MX, A (mail
/// hosts, domains, websites and their www. names), the null MX, NODATA (with an SOA) for known names without the asked type, NXDOMAIN for every other name, and SERVFAIL for every name
/// of a domain whose DNS is broken (<c>dns_servfail</c>);
/// block-list zones and PTR records are answered by <see cref="AddressZones"/>.
/// </summary>
internal sealed class DnsService
{
    private readonly MailWorld _world;
    private readonly DnsServer _server;
    private readonly AddressZones _addressZones;

    private DnsService(MailWorld world, DnsServer server, IPEndPoint endPoint)
    {
        _world = world;
        _server = server;
        _addressZones = new AddressZones(world.Description);
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static DnsService Start(MailWorld world, int requestedPort)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = requestedPort == 0 ? FreeUdpAndTcpPort() : requestedPort;
            var endPoint = new IPEndPoint(IPAddress.Loopback, port);
            var server = new DnsServer(new UdpServerTransport(endPoint, 5000), new TcpServerTransport(endPoint, 5000, 5000));
            var service = new DnsService(world, server, endPoint);
            server.QueryReceived += service.OnQueryAsync;
            try
            {
                server.Start();
                return service;
            }
            catch (SocketException) when (requestedPort == 0 && attempt < 20)
            {
                try { server.Stop(); } catch (Exception e) when (e is AggregateException or OperationCanceledException or SocketException or ObjectDisposedException) { /* half-started */ }
            }
        }
    }

    /// <summary>Stops the server. ARSoft's Stop waits for its listener tasks and throws when they end by cancellation, which is how they end.</summary>
    public async Task StopAsync()
    {
        try { await Task.Run(_server.Stop).WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (Exception e) when (e is AggregateException or OperationCanceledException or TimeoutException or ObjectDisposedException) { }
    }

    /// <summary>A port free for both UDP and TCP on 127.0.0.1 right now (the server binds it straight after).</summary>
    private static int FreeUdpAndTcpPort()
    {
        for (var i = 0; i < 50; i++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { }
        }
        throw new InvalidOperationException("No port free for both UDP and TCP on 127.0.0.1.");
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query) return;
        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        response.IsRecursionAllowed = false;
        if (query.Questions.Count != 1)
        {
            response.ReturnCode = ReturnCode.FormatError;
            e.Response = response;
            return;
        }
        var question = query.Questions[0];
        var name = Names.Normalize(question.Name.ToString());
        _world.CountDnsQuery(name, question.RecordType.ToString().ToUpperInvariant());

        var domain = FindDomain(name);
        var delay = _world.Description.DnsDelayMs + (domain?.DnsDelayMs ?? 0);
        if (delay > 0)
        {
            try { await Task.Delay(delay); }
            catch (OperationCanceledException) { return; }
        }
        if (domain is { DnsServfail: true })
        {
            response.ReturnCode = ReturnCode.ServerFailure;
            response.IsAuthoritiveAnswer = false;
        }
        else
        {
            Answer(response, question, name, domain);
        }

        e.Response = response;
    }

    /// <summary>The world domain equal to the name or the closest one above it.</summary>
    private DomainDescription? FindDomain(string name)
    {
        for (var n = name; ; )
        {
            if (_world.Domain(n) is { } d) return d;
            var dot = n.IndexOf('.');
            if (dot < 0) return null;
            n = n[(dot + 1)..];
        }
    }

    private void Answer(DnsMessage response, DnsQuestion question, string name, DomainDescription? zone)
    {
        var ttl = zone?.Ttl ?? _world.Description.Ttl;
        if (_addressZones.TryAnswer(response, question, name, _world.Description.Ttl)) return;
        var qname = question.Name;
        var exact = _world.Domain(name);
        var host = _world.HostByName(name);
        var site = _world.WebsiteByName(name);
        var exists = exact is not null || host is not null || site is not null;
        if (!exists)
        {
            response.ReturnCode = ReturnCode.NxDomain;
            response.AuthorityRecords.Add(Soa(zone is null ? LastLabel(name) : Names.Normalize(zone.Name), ttl));
            return;
        }
        response.ReturnCode = ReturnCode.NoError;
        var type = question.RecordType;
        if ((type == RecordType.Mx || type == RecordType.Any) && exact is not null)
        {
            if (exact.NullMx)
                response.AnswerRecords.Add(new MxRecord(qname, ttl, 0, DomainName.Root));
            else if (exact.Mx is { Count: > 0 } mx)
                foreach (var m in mx.OrderBy(m => m.Preference))
                    response.AnswerRecords.Add(new MxRecord(qname, ttl, m.Preference, Names.Normalize(m.Host) is { Length: > 0 } exchange ? DomainName.Parse(exchange) : DomainName.Root));
        }
        if (type == RecordType.A || type == RecordType.Any)
        {
            // A mail host answers its address; a website's names answer the site's (the implicit MX's when the domain
            // is one); a domain with "a": true and neither answers 127.0.0.1 (reachable, but with no listener).
            if (host is not null)
                response.AnswerRecords.Add(new ARecord(qname, ttl, host.Address));
            else if (site is not null)
                response.AnswerRecords.Add(new ARecord(qname, ttl, site.Address));
            else if (exact is { A: true })
                response.AnswerRecords.Add(new ARecord(qname, ttl, exact.MxAddress is { } a ? IPAddress.Parse(a) : IPAddress.Loopback));
        }
        if (response.AnswerRecords.Count == 0)
            response.AuthorityRecords.Add(Soa(zone is null ? LastLabel(name) : Names.Normalize(zone.Name), ttl));
    }

    private static string LastLabel(string name) => name.Contains('.') ? name[(name.LastIndexOf('.') + 1)..] : name;

    internal static SoaRecord Soa(string zone, int ttl)
    {
        var z = DomainName.Parse(zone.Length == 0 ? "." : zone);
        return new SoaRecord(z, ttl, DomainName.Parse("ns." + zone), DomainName.Parse("hostmaster." + zone), 1, 3600, 600, 86400, ttl);
    }
}
