using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace PeopleEnrich.MailWorld.Tests;

public sealed class DnsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mx_records_come_with_their_preferences_and_the_hosts_resolve_to_their_loopback_addresses(bool tcp)
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var dns = world.Dns(tcp);

        var mx = await dns.QueryAsync("acme.test", QueryType.MX);
        Assert.Equal(DnsHeaderResponseCode.NoError, mx.Header.ResponseCode);
        Assert.True(mx.Header.HasAuthorityAnswer);
        var records = mx.Answers.MxRecords().OrderBy(r => r.Preference).ToList();
        Assert.Equal([(10, "mx1.acme.test."), (20, "mx2.acme.test.")], records.Select(r => ((int)r.Preference, r.Exchange.Value)));
        Assert.All(records, r => Assert.Equal(300, r.InitialTimeToLive));

        var a1 = await dns.QueryAsync("mx1.acme.test", QueryType.A);
        var a2 = await dns.QueryAsync("MX2.Acme.Test.", QueryType.A);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), Assert.Single(a1.Answers.ARecords()).Address);
        Assert.Equal(IPAddress.Parse("127.0.0.3"), Assert.Single(a2.Answers.ARecords()).Address);
        Assert.Equal(world.Host("mx1.acme.test").Address, a1.Answers.ARecords().Single().Address);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unknown_names_are_NXDOMAIN_and_known_names_without_the_type_are_NODATA(bool tcp)
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var dns = world.Dns(tcp);

        var unknown = await dns.QueryAsync("nowhere.test", QueryType.MX);
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, unknown.Header.ResponseCode);
        Assert.Empty(unknown.Answers);
        Assert.Single(unknown.Authorities.SoaRecords());

        var sub = await dns.QueryAsync("nope.acme.test", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, sub.Header.ResponseCode);

        var nodata = await dns.QueryAsync("acme.test", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.NoError, nodata.Header.ResponseCode);
        Assert.Empty(nodata.Answers);

        var aaaa = await dns.QueryAsync("mx1.acme.test", QueryType.AAAA);
        Assert.Equal(DnsHeaderResponseCode.NoError, aaaa.Header.ResponseCode);
        Assert.Empty(aaaa.Answers);
    }

    [Fact]
    public async Task An_mx_host_with_no_address_is_NXDOMAIN_or_NODATA_and_gets_no_mail_host()
    {
        var description = Worlds.Of(
            new DomainDescription
            {
                Name = "ghost.test",
                Mx = [new MxDescription { Host = "mx.ghost.test", NoAddress = true }, new MxDescription { Preference = 20, Host = "bare.test", NoAddress = true }],
            },
            new DomainDescription { Name = "bare.test" });
        await using var world = await MailWorld.StartAsync(description);
        var dns = world.Dns(tcp: false);

        var mx = await dns.QueryAsync("ghost.test", QueryType.MX);
        Assert.Equal(["mx.ghost.test.", "bare.test."], mx.Answers.MxRecords().OrderBy(r => r.Preference).Select(r => r.Exchange.Value));
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, (await dns.QueryAsync("mx.ghost.test", QueryType.A)).Header.ResponseCode);
        var nodata = await dns.QueryAsync("bare.test", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.NoError, nodata.Header.ResponseCode);
        Assert.Empty(nodata.Answers);
        Assert.Empty(world.Hosts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Null_MX_implicit_MX_and_private_MX_addresses(bool tcp)
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var dns = world.Dns(tcp);

        var nullMx = Assert.Single((await dns.QueryAsync("nullmx.test", QueryType.MX)).Answers.MxRecords());
        Assert.Equal(0, nullMx.Preference);
        Assert.Equal(".", nullMx.Exchange.Value);

        var implicitMx = await dns.QueryAsync("nomx.test", QueryType.MX);
        Assert.Equal(DnsHeaderResponseCode.NoError, implicitMx.Header.ResponseCode);
        Assert.Empty(implicitMx.Answers.MxRecords());
        var a = Assert.Single((await dns.QueryAsync("nomx.test", QueryType.A)).Answers.ARecords());
        Assert.Equal(world.Host("nomx.test").Address, a.Address);
        Assert.True(IPAddress.IsLoopback(a.Address));
        Assert.NotNull(world.Host("nomx.test").EndPoint);

        Assert.Equal(IPAddress.Parse("10.0.0.5"), Assert.Single((await dns.QueryAsync("mx.private.test", QueryType.A)).Answers.ARecords()).Address);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), Assert.Single((await dns.QueryAsync("mx.metadata.test", QueryType.A)).Answers.ARecords()).Address);
        Assert.False(world.Host("mx.private.test").Listening);
        Assert.Null(world.Host("mx.private.test").EndPoint);
    }

    [Fact]
    public async Task Ttls_are_the_worlds_unless_a_domain_sets_its_own()
    {
        var description = Worlds.Sample() with { Ttl = 120 };
        await using var world = await MailWorld.StartAsync(description);
        var dns = world.Dns(tcp: false);
        Assert.Equal(120, (await dns.QueryAsync("acme.test", QueryType.MX)).Answers.MxRecords().First().InitialTimeToLive);
        Assert.Equal(3600, Assert.Single((await dns.QueryAsync("m365.test", QueryType.MX)).Answers.MxRecords()).InitialTimeToLive);
    }

    [Fact]
    public async Task Slow_DNS_answers_still_come()
    {
        var description = Worlds.Of(Worlds.Domain("slowdns.test") with { DnsDelayMs = 300 });
        await using var world = await MailWorld.StartAsync(description);
        var answer = await world.Dns(tcp: false).QueryAsync("slowdns.test", QueryType.MX);
        Assert.Equal("mx.slowdns.test.", Assert.Single(answer.Answers.MxRecords()).Exchange.Value);
    }

    [Fact]
    public async Task A_domain_whose_dns_is_broken_answers_servfail_for_itself_and_the_names_under_it()
    {
        var description = Worlds.Of(Worlds.Domain("broken.test") with { DnsServfail = true }, Worlds.Domain("acme.test"));
        await using var world = await MailWorld.StartAsync(description);
        var dns = world.Dns(tcp: false);
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, (await dns.QueryAsync("broken.test", QueryType.MX)).Header.ResponseCode);
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, (await dns.QueryAsync("mx.broken.test", QueryType.A)).Header.ResponseCode);
        Assert.Equal(DnsHeaderResponseCode.NoError, (await dns.QueryAsync("mx.acme.test", QueryType.A)).Header.ResponseCode);
    }

    [Fact]
    public async Task Queries_are_counted_per_name_and_type_and_the_counters_reset()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var udp = world.Dns(tcp: false);
        var tcp = world.Dns(tcp: true);
        await udp.QueryAsync("acme.test", QueryType.MX);
        await tcp.QueryAsync("acme.test", QueryType.MX);
        await udp.QueryAsync("mx1.acme.test", QueryType.A);
        await udp.QueryAsync("nowhere.test", QueryType.MX);

        Assert.Equal(2, world.DnsQueryCount("acme.test", "MX"));
        Assert.Equal(1, world.DnsQueryCount("MX1.acme.test.", "a"));
        Assert.Equal(1, world.DnsQueryCount("nowhere.test", "MX"));
        Assert.Equal(0, world.DnsQueryCount("acme.test", "A"));
        Assert.Equal(4, world.TotalDnsQueries);

        world.ResetObservations();
        Assert.Equal(0, world.TotalDnsQueries);
        Assert.Empty(world.DnsQueries);
    }

    [Fact]
    public async Task A_chosen_DNS_port_is_used_for_UDP_and_TCP()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var world = await MailWorld.StartAsync(Worlds.Sample() with { DnsPort = port });
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), world.DnsEndPoint);
        Assert.Single((await world.Dns(tcp: true).QueryAsync("tls.test", QueryType.MX)).Answers.MxRecords());
        Assert.Single((await world.Dns(tcp: false).QueryAsync("tls.test", QueryType.MX)).Answers.MxRecords());
    }

    private static WorldDescription WithAddressZones() => Worlds.Of(Worlds.Domain("acme.test")) with
    {
        BlockLists =
        [
            new BlockListDescription { Zone = "zen.spamhaus.org", Listed = ["127.0.0.1", "::1"] },
            new BlockListDescription { Zone = "bl.example.test", Listed = ["127.0.0.9"], Answer = "127.0.0.4" },
        ],
        Ptr = new Dictionary<string, string> { ["127.0.0.1"] = "client.peopleenrich.test", ["::1"] = "v6.peopleenrich.test." },
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_block_list_zone_answers_A_for_a_listed_address_and_NXDOMAIN_for_any_other(bool tcp)
    {
        await using var world = await MailWorld.StartAsync(WithAddressZones());
        var dns = world.Dns(tcp);

        var listed = await dns.QueryAsync("1.0.0.127.zen.spamhaus.org", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.NoError, listed.Header.ResponseCode);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), Assert.Single(listed.Answers.ARecords()).Address);
        Assert.Equal(IPAddress.Parse("127.0.0.4"), Assert.Single((await dns.QueryAsync("9.0.0.127.BL.example.test.", QueryType.A)).Answers.ARecords()).Address);
        var v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org";
        Assert.Single((await dns.QueryAsync(v6, QueryType.A)).Answers.ARecords());

        foreach (var unlisted in new[] { "9.0.0.127.zen.spamhaus.org", "1.0.0.127.bl.example.test", "2.0.0.127.zen.spamhaus.org" })
        {
            var answer = await dns.QueryAsync(unlisted, QueryType.A);
            Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, answer.Header.ResponseCode);
            Assert.Empty(answer.Answers);
        }
        var soa = Assert.Single((await dns.QueryAsync("9.0.0.127.zen.spamhaus.org", QueryType.A)).Authorities.SoaRecords());
        Assert.Equal("zen.spamhaus.org.", soa.DomainName.Value);

        // A listed name asked for another type, and the zone itself: NODATA.
        var txt = await dns.QueryAsync("1.0.0.127.zen.spamhaus.org", QueryType.TXT);
        Assert.Equal((DnsHeaderResponseCode.NoError, 0), (txt.Header.ResponseCode, txt.Answers.Count));
        Assert.Equal(DnsHeaderResponseCode.NoError, (await dns.QueryAsync("zen.spamhaus.org", QueryType.A)).Header.ResponseCode);
        Assert.Equal(1, world.DnsQueryCount("1.0.0.127.zen.spamhaus.org", "A"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PTR_records_answer_reverse_lookups_of_the_configured_addresses(bool tcp)
    {
        await using var world = await MailWorld.StartAsync(WithAddressZones());
        var dns = world.Dns(tcp);

        var v4 = await dns.QueryReverseAsync(IPAddress.Parse("127.0.0.1"));
        Assert.Equal("client.peopleenrich.test.", Assert.Single(v4.Answers.PtrRecords()).PtrDomainName.Value);
        Assert.True(v4.Header.HasAuthorityAnswer);
        var v6 = await dns.QueryReverseAsync(IPAddress.IPv6Loopback);
        Assert.Equal("v6.peopleenrich.test.", Assert.Single(v6.Answers.PtrRecords()).PtrDomainName.Value);

        var unknown = await dns.QueryReverseAsync(IPAddress.Parse("127.0.0.2"));
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, unknown.Header.ResponseCode);
        Assert.Equal("in-addr.arpa.", Assert.Single(unknown.Authorities.SoaRecords()).DomainName.Value);
        var nodata = await dns.QueryAsync("1.0.0.127.in-addr.arpa", QueryType.A);
        Assert.Equal((DnsHeaderResponseCode.NoError, 0), (nodata.Header.ResponseCode, nodata.Answers.Count));

        // A world without PTR records knows no reverse name.
        await using var plain = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test")));
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, (await plain.Dns(tcp).QueryReverseAsync(IPAddress.Parse("127.0.0.1"))).Header.ResponseCode);
    }

    [Fact]
    public async Task Block_lists_and_PTR_records_read_from_JSON_and_bad_ones_are_refused()
    {
        var world = WorldDescription.Parse("""
            {"block_lists":[{"zone":"zen.spamhaus.org","listed":["127.0.0.1"]}],"ptr":{"127.0.0.1":"client.test"},"domains":[]}
            """);
        Assert.Equal("127.0.0.2", Assert.Single(world.BlockLists!).Answer);
        Assert.Equal("client.test", world.Ptr!["127.0.0.1"]);
        Assert.Equal(world.ToJson(), WorldDescription.Parse(world.ToJson()).ToJson());
        Assert.DoesNotContain("block_lists", Worlds.Of(Worlds.Domain("a.test")).ToJson());
        Assert.DoesNotContain("ptr", Worlds.Of(Worlds.Domain("a.test")).ToJson());

        foreach (var bad in new[]
        {
            world with { BlockLists = [new BlockListDescription { Zone = "zen.spamhaus.org", Listed = ["localhost"] }] },
            world with { BlockLists = [new BlockListDescription { Zone = "zen.spamhaus.org", Answer = "::1" }] },
            world with { BlockLists = [new BlockListDescription { Zone = " " }] },
            world with { Ptr = new Dictionary<string, string> { ["127.0.0.300"] = "x.test" } },
            world with { Ptr = new Dictionary<string, string> { ["127.0.0.1"] = "" } },
        })
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(bad));
        }
    }
}
