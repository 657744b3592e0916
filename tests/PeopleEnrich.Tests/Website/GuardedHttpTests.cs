extern alias SimulatedWorld;

using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using DnsClient;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Website;

/// <summary>
/// The guarded HTTP connection against the simulated world on loopback: names resolved by the
/// configured resolver only, every address checked by the network guard before any connection,
/// certificates validated (an extra trusted root vouches for the chain, never for a wrong name).
/// </summary>
public sealed class GuardedHttpTests : IAsyncLifetime
{
    private static readonly WorldDescription Description = new()
    {
        Domains =
        [
            new DomainDescription { Name = "site.test", Website = new WebsiteDescription { Pages = [new PageDescription { Path = "/", Body = "hello" }] } },
            new DomainDescription { Name = "dark.test", Website = new WebsiteDescription { Address = "10.0.0.5" } },
            new DomainDescription { Name = "nosite.test", Mx = [new MxDescription { Host = "mx.nosite.test" }] },
        ],
    };

    private World _world = null!;

    public async ValueTask InitializeAsync() => _world = await World.StartAsync(Description);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task A_world_site_is_reached_by_its_name_over_https_trusting_the_extra_root()
    {
        using var client = Client(allowLoopback: true, _world.Certificate);

        Assert.Equal("hello", await client.GetStringAsync($"https://site.test:{_world.HttpsPort}/"));
        Assert.Equal("hello", await client.GetStringAsync($"http://www.site.test:{_world.HttpPort}/"));
        Assert.Equal(2, _world.HttpRequestCount("site.test"));
    }

    [Fact]
    public async Task Without_the_extra_root_the_self_signed_certificate_is_refused_and_it_never_vouches_for_another_name()
    {
        using var untrusting = Client(allowLoopback: true, trusted: null);
        using var trusting = Client(allowLoopback: true, _world.Certificate);
        var address = _world.Website("site.test").Address;

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetStringAsync($"https://site.test:{_world.HttpsPort}/"));
        var wrongName = await Assert.ThrowsAsync<HttpRequestException>(() => trusting.GetStringAsync($"https://{address}:{_world.HttpsPort}/"));

        Assert.IsType<AuthenticationException>(refused.InnerException);
        Assert.IsType<AuthenticationException>(wrongName.InnerException);
        Assert.Equal(0, _world.TotalHttpRequests);
    }

    [Fact]
    public async Task Addresses_the_guard_refuses_get_no_connection_whether_named_or_literal()
    {
        // Checked first, so that a broken guard fails here rather than sending a packet off the machine.
        Assert.False(Guard(allowLoopback: true).IsAllowed(IPAddress.Parse("169.254.169.254")));
        Assert.False(Guard(allowLoopback: true).IsAllowed(IPAddress.Parse("10.0.0.5")));
        using var strict = Client(allowLoopback: false, _world.Certificate);
        using var loopbackOnly = Client(allowLoopback: true, _world.Certificate);

        var loopback = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetStringAsync($"http://site.test:{_world.HttpPort}/"));
        var privateName = await Assert.ThrowsAsync<HttpRequestException>(() => loopbackOnly.GetStringAsync($"http://dark.test:{_world.HttpPort}/"));
        var metadata = await Assert.ThrowsAsync<HttpRequestException>(() => loopbackOnly.GetStringAsync("http://169.254.169.254/latest/meta-data/"));

        Assert.Equal(_world.Website("site.test").Address, Assert.IsType<BlockedAddressException>(loopback.InnerException).Address);
        Assert.Equal(IPAddress.Parse("10.0.0.5"), Assert.IsType<BlockedAddressException>(privateName.InnerException).Address);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), Assert.IsType<BlockedAddressException>(metadata.InnerException).Address);
        Assert.Equal(0, _world.TotalHttpRequests);
    }

    [Fact]
    public async Task Names_are_resolved_through_the_configured_resolver_and_cached_for_their_ttl()
    {
        using var dns = Dns(_world.DnsEndPoint);

        var first = await dns.ResolveHostAsync("www.site.test", CancellationToken.None);
        var again = await dns.ResolveHostAsync("WWW.site.test.", CancellationToken.None);

        Assert.Equal([_world.Website("site.test").Address], first);
        Assert.Equal(first, again);
        Assert.Equal(1, _world.DnsQueryCount("www.site.test", "A"));
        Assert.Empty(await dns.ResolveHostAsync("nosite.test", CancellationToken.None)); // a name with no address
        Assert.Empty(await dns.ResolveHostAsync("nowhere.test", CancellationToken.None)); // NXDOMAIN
    }

    [Fact]
    public async Task A_resolver_that_does_not_answer_is_no_answer_rather_than_no_address()
    {
        using var dns = Dns(new IPEndPoint(IPAddress.Loopback, 9));
        using var client = new HttpClient(new GuardedHttp(dns, Guard(allowLoopback: true), NullLogger<GuardedHttp>.Instance)
            .CreateHandler(new GuardedHttpSettings(TimeSpan.FromSeconds(3), null, null)));

        await Assert.ThrowsAsync<DnsResponseException>(() => dns.ResolveHostAsync("site.test", CancellationToken.None));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync($"http://site.test:{_world.HttpPort}/"));
        Assert.IsType<HostUnresolvedException>(failure.InnerException);
    }

    [Fact]
    public async Task A_resolver_that_never_answers_the_AAAA_question_still_gives_the_A_answer()
    {
        var address = IPAddress.Parse("127.0.0.9");
        await using var resolver = new SilentOnAaaaResolver(address);
        using var dns = Dns(resolver.EndPoint);

        Assert.Equal([address], await dns.ResolveHostAsync("site.test", CancellationToken.None));
        Assert.True(resolver.AaaaQuestions >= 1, "the AAAA question was never asked: the test proves nothing");
    }

    private HttpClient Client(bool allowLoopback, X509Certificate2? trusted)
    {
        var guarded = new GuardedHttp(Dns(_world.DnsEndPoint), Guard(allowLoopback), NullLogger<GuardedHttp>.Instance);
        return new HttpClient(guarded.CreateHandler(new GuardedHttpSettings(TimeSpan.FromSeconds(3), null, trusted is null ? null : X509CertificateLoader.LoadCertificate(trusted.RawData))));
    }

    private static NetworkGuard Guard(bool allowLoopback) =>
        new(Options.Create(new NetworkOptions { AllowLoopbackAddresses = allowLoopback }), NullLogger<NetworkGuard>.Instance);

    private static MailDns Dns(IPEndPoint server) =>
        new(Options.Create(new DnsOptions { Servers = [server.ToString()], Timeout = TimeSpan.FromSeconds(1) }));
}

/// <summary>A resolver on loopback that answers every A question with one address and never answers an AAAA one, as some broken servers do.</summary>
internal sealed class SilentOnAaaaResolver : IAsyncDisposable
{
    private const int TypeAaaa = 28;
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly IPAddress _answer;
    private readonly Task _serving;
    private int _aaaaQuestions;

    public SilentOnAaaaResolver(IPAddress answer)
    {
        _answer = answer;
        _serving = ServeAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public int AaaaQuestions => Volatile.Read(ref _aaaaQuestions);

    private async Task ServeAsync()
    {
        while (true)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var query = received.Buffer;
            var questionEnd = 12;
            while (query[questionEnd] != 0)
            {
                questionEnd += query[questionEnd] + 1;
            }

            questionEnd += 5; // the root label, QTYPE and QCLASS
            if ((query[questionEnd - 4] << 8 | query[questionEnd - 3]) == TypeAaaa)
            {
                Interlocked.Increment(ref _aaaaQuestions);
                continue;
            }

            // The header and question as asked (the EDNS record dropped), then one A record pointing back at the question's name.
            byte[] answer = [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 1, 0x2C, 0, 4, .. _answer.GetAddressBytes()];
            var response = new byte[questionEnd + answer.Length];
            query.AsSpan(0, questionEnd).CopyTo(response);
            response[2] = (byte)(0x84 | (query[2] & 0x01)); // a response, authoritative, recursion desired as asked
            response[3] = 0; // NOERROR
            response[6] = 0;
            response[7] = 1; // one answer
            response.AsSpan(8, 4).Clear(); // no authority, no additional records
            answer.CopyTo(response, questionEnd);
            await _udp.SendAsync(response, received.RemoteEndPoint, _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _serving;
        }
        catch (OperationCanceledException)
        {
            // stopped while sending an answer
        }

        _udp.Dispose();
        _stop.Dispose();
    }
}
