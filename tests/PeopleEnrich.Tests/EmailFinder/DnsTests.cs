extern alias SimulatedWorld;

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Verification.Dns;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// <see cref="MailDns"/> against the simulated world's authoritative DNS server on loopback (and, for the
/// failures, a closed loopback port and a loopback relay that can be told to stay silent).
/// </summary>
public sealed class DnsTests : IAsyncLifetime
{
    private static readonly WorldDescription Description = new()
    {
        Domains =
        [
            // Listed out of preference order: the answer must be sorted.
            new DomainDescription { Name = "two.test", Mx = [new MxDescription { Preference = 20, Host = "mx2.two.test" }, new MxDescription { Preference = 10, Host = "mx1.two.test" }] },
            new DomainDescription { Name = "implicit.test", A = true },
            new DomainDescription { Name = "nullmx.test", NullMx = true },
            new DomainDescription { Name = "nothing.test" },
        ],
    };

    private World _world = null!;

    public async ValueTask InitializeAsync() => _world = await World.StartAsync(Description);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    private MailDns Dns(TimeSpan? timeout = null, IPEndPoint? server = null, TimeProvider? time = null) =>
        new(Options.Create(new DnsOptions { Servers = [(server ?? _world.DnsEndPoint).ToString()], Timeout = timeout ?? TimeSpan.FromSeconds(3) }), time);

    [Fact]
    public async Task Mx_hosts_come_in_preference_order_with_their_addresses()
    {
        using var dns = Dns();

        var routing = Assert.IsType<MailRouting.Hosts>(await dns.ResolveAsync("two.test", CancellationToken.None));

        Assert.False(routing.Implicit);
        Assert.Equal(["mx1.two.test", "mx2.two.test"], routing.Exchangers.Select(h => h.Name));
        Assert.Equal([10, 20], routing.Exchangers.Select(h => h.Preference));
        Assert.Equal([_world.Host("mx1.two.test").Address], routing.Exchangers[0].Addresses);
        Assert.Equal([_world.Host("mx2.two.test").Address], routing.Exchangers[1].Addresses);
        Assert.NotEqual(routing.Exchangers[0].Addresses[0], routing.Exchangers[1].Addresses[0]);
    }

    [Fact]
    public async Task A_domain_with_an_address_and_no_mx_is_its_own_implicit_mx()
    {
        using var dns = Dns();

        var routing = Assert.IsType<MailRouting.Hosts>(await dns.ResolveAsync("implicit.test", CancellationToken.None));

        Assert.True(routing.Implicit);
        var host = Assert.Single(routing.Exchangers);
        Assert.Equal("implicit.test", host.Name);
        Assert.Equal([Assert.Single(_world.HostsOf("implicit.test")).Address], host.Addresses);
    }

    [Theory]
    [InlineData("nullmx.test", "null MX")]
    [InlineData("nowhere.test", "NXDOMAIN")]
    [InlineData("nothing.test", "no MX and no address")]
    public async Task Domains_that_take_no_mail_say_so(string domain, string why)
    {
        using var dns = Dns();

        var routing = Assert.IsType<MailRouting.NoMail>(await dns.ResolveAsync(domain, CancellationToken.None));

        Assert.Contains(why, routing.Why, StringComparison.Ordinal);
        Assert.Equal(1, _world.DnsQueryCount(domain, "MX"));
    }

    [Theory]
    [InlineData("two.test")]
    [InlineData("implicit.test")]
    [InlineData("nullmx.test")]
    [InlineData("nowhere.test")]
    public async Task An_answer_is_cached(string domain)
    {
        using var dns = Dns();
        var first = await dns.ResolveAsync(domain, CancellationToken.None);
        var queries = _world.TotalDnsQueries;

        var second = await dns.ResolveAsync(domain, CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(1, _world.DnsQueryCount(domain, "MX"));
        Assert.Equal(queries, _world.TotalDnsQueries); // not the MX, nor the addresses behind it

        using var fresh = Dns(); // another cache asks again: the counter does count
        await fresh.ResolveAsync(domain, CancellationToken.None);
        Assert.Equal(2, _world.DnsQueryCount(domain, "MX"));
    }

    [Fact]
    public async Task A_closed_dns_port_leaves_the_domain_unresolved()
    {
        using var dns = Dns(TimeSpan.FromMilliseconds(500), new IPEndPoint(IPAddress.Loopback, 9));

        Assert.IsType<MailRouting.Unresolved>(await dns.ResolveAsync("two.test", CancellationToken.None));
        Assert.IsType<MailRouting.Unresolved>(await dns.ResolveAsync("two.test", CancellationToken.None));
        Assert.Equal(0, _world.TotalDnsQueries);
    }

    [Fact]
    public async Task A_silent_dns_server_leaves_the_domain_unresolved_and_that_is_not_cached()
    {
        await using var relay = new SilenceableDnsRelay(_world.DnsEndPoint);
        using var dns = Dns(TimeSpan.FromMilliseconds(500), relay.EndPoint);

        var silent = await dns.ResolveAsync("two.test", CancellationToken.None);

        Assert.IsType<MailRouting.Unresolved>(silent);
        Assert.True(relay.Received >= 1, "the query never reached the relay: the test proves nothing");
        Assert.Equal(0, _world.TotalDnsQueries);

        relay.Answering = true;
        var answered = Assert.IsType<MailRouting.Hosts>(await dns.ResolveAsync("two.test", CancellationToken.None));

        Assert.Equal(["mx1.two.test", "mx2.two.test"], answered.Exchangers.Select(h => h.Name));
        Assert.Equal(1, _world.DnsQueryCount("two.test", "MX"));
    }

    [Fact]
    public async Task A_routing_without_the_host_whose_zone_did_not_answer_is_asked_again_soon_and_then_has_that_host()
    {
        // mx1's zone does not answer (its address question is dropped), mx2's does: the domain can be reached through mx2 now.
        await using var relay = new SilenceableDnsRelay(_world.DnsEndPoint) { Answering = true, SilentFor = "mx1.two.test" };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var dns = Dns(TimeSpan.FromMilliseconds(500), relay.EndPoint, time);

        var partial = Assert.IsType<MailRouting.Hosts>(await dns.ResolveAsync("two.test", CancellationToken.None));

        Assert.Equal(["mx1.two.test", "mx2.two.test"], partial.Exchangers.Select(h => h.Name));
        Assert.Empty(partial.Exchangers[0].Addresses);
        Assert.Equal([_world.Host("mx2.two.test").Address], partial.Exchangers[1].Addresses);
        Assert.True(relay.Dropped >= 1, "no question about mx1 was dropped: the test proves nothing");

        // mx1's zone answers again. Past the least TTL, long before the MX answer's (300 s): the routing is asked again, with mx1.
        relay.SilentFor = null;
        time.Advance(MailDns.MinimumTtl + TimeSpan.FromSeconds(1));
        var whole = Assert.IsType<MailRouting.Hosts>(await dns.ResolveAsync("two.test", CancellationToken.None));

        Assert.Equal([_world.Host("mx1.two.test").Address], whole.Exchangers[0].Addresses);
        Assert.Equal(2, _world.DnsQueryCount("two.test", "MX"));

        // A whole routing is kept for its TTL, as before.
        time.Advance(MailDns.MinimumTtl + TimeSpan.FromSeconds(1));
        Assert.Same(whole, await dns.ResolveAsync("two.test", CancellationToken.None));
        Assert.Equal(2, _world.DnsQueryCount("two.test", "MX"));
    }

    /// <summary>
    /// A UDP DNS relay on loopback: drops every query until <see cref="Answering"/>, then forwards to the world, except
    /// questions about <see cref="SilentFor"/>, which it drops (a zone whose name servers do not answer).
    /// </summary>
    private sealed class SilenceableDnsRelay : IAsyncDisposable
    {
        private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly IPEndPoint _upstream;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _received;
        private int _dropped;
        private volatile bool _answering;
        private volatile string? _silentFor;

        public SilenceableDnsRelay(IPEndPoint upstream)
        {
            _upstream = upstream;
            _loop = Task.Run(RelayAsync);
        }

        public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

        public int Received => Volatile.Read(ref _received);

        /// <summary>Questions dropped because they were about <see cref="SilentFor"/>.</summary>
        public int Dropped => Volatile.Read(ref _dropped);

        /// <summary>A name whose questions are dropped while the others are answered; none when null.</summary>
        public string? SilentFor
        {
            get => _silentFor;
            set => _silentFor = value;
        }

        public bool Answering
        {
            get => _answering;
            set => _answering = value;
        }

        private async Task RelayAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult query;
                try
                {
                    query = await _socket.ReceiveAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                    continue; // e.g. a client that went away
                }

                Interlocked.Increment(ref _received);
                if (!_answering)
                {
                    continue;
                }

                if (_silentFor is { } silent && string.Equals(QuestionName(query.Buffer), silent, StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }

                using var upstream = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                deadline.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    await upstream.SendAsync(query.Buffer, _upstream, deadline.Token);
                    var answer = await upstream.ReceiveAsync(deadline.Token);
                    await _socket.SendAsync(answer.Buffer, query.RemoteEndPoint, deadline.Token);
                }
                catch (Exception exception) when (exception is OperationCanceledException or SocketException)
                {
                }
            }
        }

        /// <summary>The name a query asks about: its question's labels, after the 12-byte header (RFC 1035 §4.1.2).</summary>
        private static string QuestionName(byte[] query)
        {
            var labels = new List<string>();
            for (var at = 12; at < query.Length && query[at] != 0; at += query[at] + 1)
            {
                labels.Add(System.Text.Encoding.ASCII.GetString(query, at + 1, Math.Min(query[at], query.Length - at - 1)));
            }

            return string.Join('.', labels);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
