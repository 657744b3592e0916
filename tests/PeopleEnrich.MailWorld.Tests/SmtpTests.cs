using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace PeopleEnrich.MailWorld.Tests;

public sealed class SmtpTests
{
    [Fact]
    public async Task A_normal_server_speaks_SMTP_and_tells_mailboxes_apart()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx1.acme.test"));
        await using var _ = smtp;

        Assert.Equal("220 mx1.acme.test ESMTP MailWorld", greeting.Last);
        var ehlo = await smtp.SendAsync("EHLO verifier.example");
        Assert.Equal(250, ehlo.Code);
        Assert.True(ehlo.Lines.Count > 1);
        Assert.All(ehlo.Lines.Take(ehlo.Lines.Count - 1), l => Assert.StartsWith("250-", l, StringComparison.Ordinal));
        Assert.StartsWith("250 ", ehlo.Last);
        Assert.Equal("250-mx1.acme.test Hello verifier.example [127.0.0.1]", ehlo.Lines[0]);
        Assert.DoesNotContain(ehlo.Lines, l => l.Contains("STARTTLS"));
        Assert.Contains("250-ENHANCEDSTATUSCODES", ehlo.Lines);

        Assert.Equal("250 2.1.0 Ok", (await smtp.SendAsync("MAIL FROM:<probe@verifier.example>")).Last);
        Assert.Equal("250 2.1.5 Ok", (await smtp.SendAsync("RCPT TO:<jane.doe@acme.test>")).Last);
        Assert.Equal("250 2.1.5 Ok", (await smtp.SendAsync("RCPT TO:<John.Smith@ACME.test>")).Last);
        Assert.Equal("550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown", (await smtp.SendAsync("RCPT TO:<nobody@acme.test>")).Last);
        Assert.Equal("554 5.7.1 <ann.lee@catchall.test>: Relay access denied", (await smtp.SendAsync("RCPT TO:<ann.lee@catchall.test>")).Last);
        Assert.Equal("501 5.5.4 Syntax: RCPT TO:<address>", (await smtp.SendAsync("RCPT TO: jane.doe@acme.test")).Last);
        Assert.Equal("503 5.5.1 Error: nested MAIL command", (await smtp.SendAsync("MAIL FROM:<x@y.z>")).Last);
        Assert.Equal("250 2.0.0 Ok", (await smtp.SendAsync("RSET")).Last);
        Assert.Equal("503 5.5.1 Error: need MAIL command", (await smtp.SendAsync("RCPT TO:<jane.doe@acme.test>")).Last);
        Assert.Equal("250 2.0.0 Ok", (await smtp.SendAsync("NOOP")).Last);
        Assert.Equal("502 5.5.2 Error: command not recognized", (await smtp.SendAsync("XYZZY plugh")).Last);
        Assert.Equal("502 5.5.1 STARTTLS not supported", (await smtp.SendAsync("STARTTLS")).Last);
        Assert.Equal("250 mx1.acme.test", (await smtp.SendAsync("HELO verifier.example")).Last);
        Assert.Equal("250 2.1.0 Ok", (await smtp.SendAsync("MAIL FROM:<>")).Last);
        Assert.Equal("221 2.0.0 Bye", (await smtp.SendAsync("QUIT")).Last);
        Assert.True(await smtp.ClosedByServerAsync());

        var host = world.Host("mx1.acme.test");
        Assert.Equal(1, host.Sessions);
        Assert.Equal(6, host.RcptCommands);
        Assert.Equal(0, world.DataAttempts);
    }

    [Fact]
    public async Task Mail_before_HELO_is_a_bad_sequence_and_the_MX_hosts_of_a_domain_share_its_mailboxes()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx2.acme.test"));
        await using var __ = smtp;
        Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Last);
        Assert.Equal("501 5.5.4 Syntax: HELO hostname", (await smtp.SendAsync("HELO")).Last);
        await smtp.SendAsync("HELO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<jane.doe@acme.test>")).Code);
        Assert.Equal(["mx1.acme.test", "mx2.acme.test"], world.HostsOf("acme.test").Select(h => h.Name));
    }

    [Fact]
    public async Task A_catch_all_server_accepts_every_recipient_of_its_domain()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.catchall.test"));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<ann.lee@catchall.test>")).Code);
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<zq8xk2w@catchall.test>")).Code);
    }

    [Fact]
    public async Task Greylisting_refuses_a_new_triple_until_the_delay_has_passed_on_the_worlds_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var world = await MailWorld.StartAsync(Worlds.Sample(), time);
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.grey.test"));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal("450 4.2.0 <gail@grey.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/grey.test.html",
            (await smtp.SendAsync("RCPT TO:<gail@grey.test>")).Last);
        Assert.Equal("450 4.2.0 <nobody@grey.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/grey.test.html",
            (await smtp.SendAsync("RCPT TO:<nobody@grey.test>")).Last);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(450, (await smtp.SendAsync("RCPT TO:<gail@grey.test>")).Code);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("250 2.1.5 Ok", (await smtp.SendAsync("RCPT TO:<gail@grey.test>")).Last);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<nobody@grey.test>")).Code);

        // Another sender is another triple.
        await smtp.SendAsync("RSET");
        await smtp.SendAsync("MAIL FROM:<other@b.example>");
        Assert.Equal(450, (await smtp.SendAsync("RCPT TO:<gail@grey.test>")).Code);

        world.ResetGreylist();
        await smtp.SendAsync("RSET");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(450, (await smtp.SendAsync("RCPT TO:<gail@grey.test>")).Code);
    }

    [Fact]
    public async Task Greylisting_accepts_a_retry_in_a_new_session_after_the_real_delay()
    {
        var description = Worlds.Of(Worlds.Domain("grey.test", Behaviour.Greylist, "gail") with { GreylistSeconds = 1 });
        await using var world = await MailWorld.StartAsync(description);
        async Task<Reply> Attempt()
        {
            var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.grey.test"));
            await using var __ = smtp;
            await smtp.SendAsync("EHLO me");
            await smtp.SendAsync("MAIL FROM:<a@b.example>");
            var reply = await smtp.SendAsync("RCPT TO:<gail@grey.test>");
            await smtp.SendAsync("QUIT");
            return reply;
        }

        Assert.Equal(450, (await Attempt()).Code);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        Reply retry;
        do
        {
            await Task.Delay(250);
            retry = await Attempt();
        } while (retry.Code == 450 && DateTime.UtcNow < deadline);
        Assert.Equal("250 2.1.5 Ok", retry.Last);
    }

    [Fact]
    public async Task A_slow_server_answers_correctly_after_its_delay()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.slow.test"));
        await using var __ = smtp;
        Assert.Equal(220, greeting.Code);
        Assert.Equal(250, (await smtp.SendAsync("EHLO me")).Code);
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<sam@slow.test>")).Code);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<nobody@slow.test>")).Code);
        Assert.Equal(30, world.Host("mx.slow.test").Owner.ReplyDelayMs);
    }

    [Fact]
    public async Task A_busy_server_refuses_sessions_beyond_its_limit_at_connect()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var endPoint = world.Smtp("mx.busy.test");
        var (first, greeting) = await SmtpDialogue.OpenAsync(endPoint);
        Assert.Equal(220, greeting.Code);

        var (second, refused) = await SmtpDialogue.OpenAsync(endPoint);
        await using (second)
        {
            Assert.Equal("421 4.7.0 Too many connections, try again later", refused.Last);
            Assert.True(await second.ClosedByServerAsync());
        }

        await first.SendAsync("QUIT");
        await first.DisposeAsync();
        var host = world.Host("mx.busy.test");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (host.ActiveSessions > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);

        var (third, again) = await SmtpDialogue.OpenAsync(endPoint);
        await using var __ = third;
        Assert.Equal(220, again.Code);
        Assert.Equal(3, host.Sessions);
    }

    [Fact]
    public async Task A_rate_limited_server_answers_the_configured_reply_past_its_recipient_limit()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.limited.test"));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<lou@limited.test>")).Code);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<x1@limited.test>")).Code);
        await smtp.SendAsync("RSET"); // the limit is per session, not per transaction
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<x2@limited.test>")).Code);
        Assert.Equal("452 4.5.3 Too many recipients", (await smtp.SendAsync("RCPT TO:<lou@limited.test>")).Last);
        Assert.Equal("452 4.5.3 Too many recipients", (await smtp.SendAsync("RCPT TO:<x3@limited.test>")).Last);
    }

    [Fact]
    public async Task A_full_mailbox_answers_552_and_the_others_are_told_apart_as_usual()
    {
        var description = Worlds.Of(Worlds.Domain("full.test", Behaviour.Normal, "john") with { FullMailboxes = ["Jane"] });
        await using var world = await MailWorld.StartAsync(description);
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.full.test"));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");

        Assert.Equal("552 5.2.2 <jane@full.test>: Recipient address rejected: Mailbox full", (await smtp.SendAsync("RCPT TO:<jane@full.test>")).Last);
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<john@full.test>")).Code);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<nobody@full.test>")).Code);
    }

    [Fact]
    public async Task A_policy_block_at_connect_answers_554_then_only_QUIT()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.blocked.test"));
        await using var __ = smtp;
        Assert.Equal("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org", greeting.Last);
        Assert.Equal("503 5.5.1 No SMTP service here", (await smtp.SendAsync("EHLO me")).Last);
        Assert.Equal("221 2.0.0 Bye", (await smtp.SendAsync("QUIT")).Last);
        Assert.True(await smtp.ClosedByServerAsync());
    }

    [Fact]
    public async Task A_policy_block_at_MAIL_FROM_rejects_the_sender()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.senderblock.test"));
        await using var __ = smtp;
        Assert.Equal(220, greeting.Code);
        await smtp.SendAsync("EHLO me");
        Assert.Equal("550 5.7.1 Sender rejected", (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Last);
        Assert.Equal(503, (await smtp.SendAsync("RCPT TO:<x@senderblock.test>")).Code);
    }

    [Fact]
    public async Task STARTTLS_when_offered_upgrades_the_session_with_the_self_signed_certificate()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.tls.test"));
        await using var __ = smtp;
        var ehlo = await smtp.SendAsync("EHLO me");
        Assert.Contains("250-STARTTLS", ehlo.Lines);
        Assert.Equal(250, (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Code); // offered, not required
        Assert.Equal("220 2.0.0 Ready to start TLS", (await smtp.SendAsync("STARTTLS")).Last);
        await smtp.StartTlsAsync();
        Assert.Equal("CN=MailWorld", smtp.Tls!.RemoteCertificate!.Subject);
        var after = await smtp.SendAsync("EHLO me");
        Assert.DoesNotContain(after.Lines, l => l.Contains("STARTTLS"));
        Assert.Equal(250, (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Code); // the earlier transaction was reset
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<tim@tls.test>")).Code);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<nobody@tls.test>")).Code);
        Assert.Equal("503 5.5.1 TLS already active", (await smtp.SendAsync("STARTTLS")).Last);

        var lines = world.Host("mx.tls.test").Transcript.Lines;
        Assert.Contains(lines, l => l.Tls && l.Direction == Direction.Received && l.Text == "RCPT TO:<tim@tls.test>");
        Assert.DoesNotContain(lines, l => !l.Tls && l.Text.StartsWith("RCPT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task STARTTLS_when_required_refuses_MAIL_before_TLS()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.tlsonly.test"));
        await using var __ = smtp;
        Assert.Contains("250-STARTTLS", (await smtp.SendAsync("EHLO me")).Lines);
        Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Last);
        Assert.Equal(220, (await smtp.SendAsync("STARTTLS")).Code);
        await smtp.StartTlsAsync();
        Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Last);
        await smtp.SendAsync("EHLO me");
        Assert.Equal(250, (await smtp.SendAsync("MAIL FROM:<a@b.example>")).Code);
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<tara@tlsonly.test>")).Code);
    }

    [Fact]
    public async Task A_tarpit_delays_the_banner_and_then_speaks_normally()
    {
        var description = Worlds.Of(Worlds.Domain("tarpit.test", Behaviour.Tarpit, "tom") with { TarpitMs = 300 });
        await using var world = await MailWorld.StartAsync(description);
        var (smtp, greeting) = await SmtpDialogue.OpenAsync(world.Smtp("mx.tarpit.test"));
        await using var __ = smtp;
        Assert.Equal("220 mx.tarpit.test ESMTP MailWorld", greeting.Last);
        await smtp.SendAsync("HELO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<tom@tarpit.test>")).Code);
    }

    [Fact]
    public async Task An_M365_server_rejects_unknown_recipients_with_access_denied_and_allows_one_RCPT_per_session()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var endPoint = world.Smtp("m365-test.mail.protection.outlook.test");
        var (one, _) = await SmtpDialogue.OpenAsync(endPoint);
        await using (one)
        {
            await one.SendAsync("EHLO me");
            await one.SendAsync("MAIL FROM:<a@b.example>");
            Assert.StartsWith("550 5.4.1 Recipient address rejected: Access denied", (await one.SendAsync("RCPT TO:<nobody@m365.test>")).Last);
            Assert.Equal("452 4.5.3 Too many recipients", (await one.SendAsync("RCPT TO:<megan.bowen@m365.test>")).Last);
        }
        var (two, _) = await SmtpDialogue.OpenAsync(endPoint);
        await using (two)
        {
            await two.SendAsync("EHLO me");
            await two.SendAsync("MAIL FROM:<a@b.example>");
            Assert.Equal("250 2.1.5 Recipient OK", (await two.SendAsync("RCPT TO:<megan.bowen@m365.test>")).Last);
            Assert.Equal("452 4.5.3 Too many recipients", (await two.SendAsync("RCPT TO:<nobody@m365.test>")).Last);
        }
    }

    [Fact]
    public async Task DATA_is_never_accepted_and_is_counted_as_a_violation()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.catchall.test"));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO me");
        await smtp.SendAsync("MAIL FROM:<a@b.example>");
        await smtp.SendAsync("RCPT TO:<ann.lee@catchall.test>");
        Assert.Equal("554 5.5.1 DATA not allowed in this world", (await smtp.SendAsync("DATA")).Last);
        Assert.Equal("554 5.5.1 DATA not allowed in this world", (await smtp.SendAsync("bdat 10 LAST")).Last);
        Assert.Equal(2, world.DataAttempts);
        Assert.Equal(2, world.Host("mx.catchall.test").DataAttempts);
        Assert.Equal(2, world.Violations.Count);
        world.ResetObservations();
        Assert.Equal(2, world.DataAttempts); // a violation is never reset away
    }

    [Fact]
    public async Task Transcripts_record_every_line_exactly_as_on_the_wire()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var host = world.Host("mx1.acme.test");
        var smtp = await SmtpDialogue.ConnectAsync(world.Smtp("mx1.acme.test"));
        await using (smtp)
        {
            await smtp.ReadReplyAsync();
            // Pipelined commands, a bare LF and odd case, sent in one write.
            await smtp.SendRawAsync("ehlo Me\r\nNOOP\nMAIL FROM:<A@B.example>  \r\n");
            await smtp.ReadReplyAsync();
            await smtp.ReadReplyAsync();
            await smtp.ReadReplyAsync();
            await smtp.SendAsync("QUIT");
            Assert.True(await smtp.ClosedByServerAsync());

            Assert.Equal("ehlo Me\r\nNOOP\nMAIL FROM:<A@B.example>  \r\nQUIT\r\n", Encoding.Latin1.GetString(host.Transcript.Wire(Direction.Received)));
            Assert.Equal(smtp.Received.ToArray(), host.Transcript.Wire(Direction.Sent));
        }
        var lines = host.Transcript.Lines;
        Assert.Equal(["220 mx1.acme.test ESMTP MailWorld\r\n", "ehlo Me\r\n"], lines.Take(2).Select(l => l.Raw));
        Assert.Equal("S: 220 mx1.acme.test ESMTP MailWorld", lines[0].ToString());
        Assert.Equal("C: ehlo Me", lines[1].ToString());
        Assert.Single(host.Transcript.Sessions);
        Assert.Equal("NOOP\n", lines.Single(l => l.Text == "NOOP").Raw);
        Assert.Equal("221 2.0.0 Bye\r\n", lines[^1].Raw);

        world.ResetObservations();
        Assert.Empty(host.Transcript.Lines);
        Assert.Equal(0, host.Sessions);
    }

    [Fact]
    public async Task Sessions_on_many_hosts_at_once_are_recorded_apart()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var hosts = new[] { "mx1.acme.test", "mx2.acme.test", "mx.catchall.test", "nomx.test" };
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp(hosts[i % hosts.Length]));
            await using var __ = smtp;
            await smtp.SendAsync($"EHLO client{i}");
            await smtp.SendAsync("QUIT");
        }));
        Assert.All(hosts, h => Assert.Equal(5, world.Host(h).Sessions));
        Assert.All(hosts, h => Assert.Equal(5 * 2, world.Host(h).Transcript.Lines.Count(l => l.Direction == Direction.Received)));
        Assert.Equal(20, world.TotalSessions);
    }

    [Fact]
    public async Task An_over_long_line_is_answered_once_and_the_session_goes_on()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample());
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx1.acme.test"));
        await using var __ = smtp;
        foreach (var length in new[] { 5000, 20000 })
        {
            Assert.Equal("500 5.5.2 Line too long", (await smtp.SendAsync("NOOP " + new string('x', length))).Last);
            Assert.Equal("250 2.0.0 Ok", (await smtp.SendAsync("NOOP")).Last);
        }
        var received = Encoding.Latin1.GetString(world.Host("mx1.acme.test").Transcript.Wire(Direction.Received));
        Assert.Equal("NOOP " + new string('x', 5000) + "\r\nNOOP\r\nNOOP " + new string('x', 20000) + "\r\nNOOP\r\n", received);
    }

    [Fact]
    public async Task An_idle_session_is_closed_with_421()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Sample() with { IdleTimeoutSeconds = 1 });
        var (smtp, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx1.acme.test"));
        await using var __ = smtp;
        Assert.Equal("421 4.4.2 Idle timeout, closing connection", (await smtp.ReadReplyAsync()).Last);
        Assert.True(await smtp.ClosedByServerAsync());
    }
}
