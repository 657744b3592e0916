using System.Net;

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
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.rbl.test"), IPAddress.Parse(client));
        await using var __ = smtp;
        Assert.Equal(220, greeting.Code);
        Assert.Equal(250, (await smtp.SendAsync("EHLO me")).Code);
        Assert.Equal(250, (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Code);
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
}
