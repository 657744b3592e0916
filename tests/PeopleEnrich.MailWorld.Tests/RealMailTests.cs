using System.Net;
using System.Net.Sockets;
using DnsClient;
using Microsoft.Extensions.Time.Testing;

namespace PeopleEnrich.MailWorld.Tests;

/// <summary>Behaviours copied from real mail software: block-list refusals, the client's address in EHLO.</summary>
public sealed class RealMailTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.9")]
    public async Task A_block_listed_client_gets_Postfixs_reject_rbl_client_refusal_for_every_recipient(string client)
    {
        var blocked = Worlds.Domain("rbl.test", Behaviour.PolicyBlock, "rita") with { BlockAt = BlockAt.Rcpt };
        await using var world = await MailWorld.StartAsync(Worlds.Of(blocked, Worlds.Domain("other.test", Behaviour.Normal, "olga")));
        await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.Smtp("mx.rbl.test"), IPAddress.Parse(client));
        var refusal = $"554 5.7.1 Service unavailable; Client host [{client}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{client}";
        Assert.Equal(refusal, (await smtp.SendAsync("RCPT TO:<rita@rbl.test>")).Last);
        Assert.Equal(refusal, (await smtp.SendAsync("RCPT TO:<nobody@rbl.test>")).Last);
        Assert.Equal(refusal, (await smtp.SendAsync("RCPT TO:<olga@other.test>")).Last);
        Assert.Equal("501 5.5.4 Syntax: RCPT TO:<address>", (await smtp.SendAsync("RCPT TO:rita@rbl.test")).Last);
        Assert.Equal("221 2.0.0 Bye", (await smtp.SendAsync("QUIT")).Last);

        var host = world.Host("mx.rbl.test");
        await host.WaitIdleAsync();
        Assert.Equal(4, host.RcptCommands);
        Assert.Equal(4, world.TotalRcptCommands);
        var session = host.SessionLog.Single();
        Assert.Equal((4, 4, client), (session.RcptCommands, session.Errors, session.Client.ToString()));
    }

    [Fact]
    public async Task Postgrey_lets_a_triple_through_once_its_delay_has_passed_since_it_was_first_seen()
    {
        // greylist_seconds left out: postgrey's 300 s.
        var description = WorldDescription.Parse("""
            {"domains":[{"name":"grey.test","mx":[{"host":"mx.grey.test"}],"behaviour":"greylist","mailboxes":["gail","gus"]}]}
            """);
        Assert.Equal(300, description.Domains[0].GreylistSeconds);
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var world = await MailWorld.StartAsync(description, time);
        var endPoint = world.Smtp("mx.grey.test");

        // One RCPT in a new session from a client address with a sender: the whole triple is the key.
        async Task<Reply> Rcpt(string client, string from, string to)
        {
            await using var smtp = await SmtpDialogue.OpenForRcptAsync(endPoint, IPAddress.Parse(client), from);
            return await smtp.SendAsync($"RCPT TO:<{to}>");
        }

        Assert.Equal("450 4.2.0 <gail@grey.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/grey.test.html",
            (await Rcpt("127.0.0.1", "a@b.example", "gail@grey.test")).Last);
        time.Advance(TimeSpan.FromSeconds(200));
        Assert.Equal(450, (await Rcpt("127.0.0.1", "a@b.example", "gail@grey.test")).Code); // a retry too soon
        Assert.Equal(450, (await Rcpt("127.0.0.1", "a@b.example", "gus@grey.test")).Code);   // first sight of this triple, at 200 s
        time.Advance(TimeSpan.FromSeconds(100));
        // 300 s after its first sighting (the retry at 200 s did not move it), the first triple passes, in any case.
        Assert.Equal("250 2.1.5 Ok", (await Rcpt("127.0.0.1", "A@B.example", "Gail@Grey.test")).Last);
        // Each part of the triple is its own key: another client address, another sender, another recipient.
        Assert.Equal(450, (await Rcpt("127.0.0.7", "a@b.example", "gail@grey.test")).Code);
        Assert.Equal(450, (await Rcpt("127.0.0.1", "c@b.example", "gail@grey.test")).Code);
        Assert.Equal(450, (await Rcpt("127.0.0.1", "a@b.example", "gus@grey.test")).Code);
        time.Advance(TimeSpan.FromSeconds(200));
        Assert.Equal(250, (await Rcpt("127.0.0.1", "a@b.example", "gus@grey.test")).Code);   // seen first at 200 s, now 500 s
        Assert.Equal(450, (await Rcpt("127.0.0.7", "a@b.example", "gail@grey.test")).Code);  // seen first at 300 s
        time.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(250, (await Rcpt("127.0.0.7", "a@b.example", "gail@grey.test")).Code);
        Assert.Equal(250, (await Rcpt("127.0.0.1", "a@b.example", "gail@grey.test")).Code);
    }

    [Fact]
    public async Task A_domain_whose_every_MX_refuses_connections_is_still_in_DNS()
    {
        var dead = new DomainDescription
        {
            Name = "dead.test", RefuseConnections = true, Mailboxes = ["dora"],
            Mx = [new MxDescription { Preference = 10, Host = "mx1.dead.test" }, new MxDescription { Preference = 20, Host = "mx2.dead.test" }],
        };
        await using var world = await MailWorld.StartAsync(Worlds.Of(dead, Worlds.Domain("alive.test", Behaviour.Normal, "al")));
        var dns = world.Dns(tcp: false);
        var exchanges = (await dns.QueryAsync("dead.test", QueryType.MX)).Answers.MxRecords().OrderBy(m => m.Preference).Select(m => m.Exchange.Value).ToList();
        Assert.Equal(["mx1.dead.test.", "mx2.dead.test."], exchanges);

        foreach (var name in new[] { "mx1.dead.test", "mx2.dead.test" })
        {
            var host = world.Host(name);
            Assert.True(host.RefusesConnections);
            Assert.False(host.Listening);
            Assert.Null(host.EndPoint);
            var address = Assert.Single((await dns.QueryAsync(name, QueryType.A)).Answers.ARecords()).Address;
            Assert.Equal(host.Address, address);
            Assert.True(IPAddress.IsLoopback(address));

            using var client = new TcpClient(AddressFamily.InterNetwork);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var refused = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(new IPEndPoint(address, world.SmtpPort), cts.Token));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Equal(0, host.Sessions);
        }

        // The other domain's host, at the same port, answers.
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.alive.test"));
        await using (smtp) Assert.Equal(220, greeting.Code);
        Assert.Equal(world.SmtpPort, world.Smtp("mx.alive.test").Port);
        Assert.False(world.Host("mx.alive.test").RefusesConnections);

        var contradiction = Worlds.Of(dead with { MxAddress = "10.0.0.5" });
        await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(contradiction));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.9")]
    public async Task EHLO_echoes_the_address_the_server_sees_the_client_at(string client)
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test", Behaviour.Postfix, "jane")));
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.acme.test"), IPAddress.Parse(client));
        await using var __ = smtp;
        var ehlo = await smtp.SendAsync("EHLO client.name");
        Assert.Equal($"250-mx.acme.test Hello client.name [{client}]", ehlo.Lines[0]);
        Assert.Equal(client, world.Host("mx.acme.test").SessionLog.Single().Client.ToString());
    }
}
