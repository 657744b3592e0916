using System.Diagnostics;

namespace PeopleEnrich.MailWorld.Tests;

/// <summary>Postfix's smtpd_soft_error_limit, smtpd_error_sleep_time and smtpd_hard_error_limit, over real sockets.</summary>
public sealed class ErrorLimitTests
{
    // Task.Delay may end a hair before its time on a coarse clock; a delayed reply is asserted to take at least this much.
    private static TimeSpan AtLeast(int sleepMs) => TimeSpan.FromMilliseconds(sleepMs - 10);

    [Fact]
    public async Task Past_the_soft_limit_every_reply_waits_and_at_the_hard_limit_the_server_says_421_and_hangs_up()
    {
        const int sleepMs = 300;
        var limits = new ErrorLimits { SoftErrorLimit = 2, ErrorSleepMs = sleepMs, HardErrorLimit = 4 };
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test", Behaviour.Normal, "jane") with { ErrorLimits = limits }));
        var host = world.Host("mx.acme.test");
        await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.Smtp("mx.acme.test"));
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<jane@acme.test>")).Code);
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<x1@acme.test>")).Code);
        Assert.Equal(502, (await smtp.SendAsync("XYZZY")).Code); // any error counts, not only recipients
        await ErrorsCountedAsync(host, 2); // the session counts a reply's error just after sending it

        // At the soft limit: every reply waits, a success as much as an error.
        var clock = Stopwatch.StartNew();
        Assert.Equal("250 2.0.0 Ok", (await smtp.SendAsync("NOOP")).Last);
        Assert.True(clock.Elapsed >= AtLeast(sleepMs), $"NOOP answered after {clock.ElapsedMilliseconds} ms");
        clock.Restart();
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<jane@acme.test>")).Code);
        Assert.True(clock.Elapsed >= AtLeast(sleepMs), $"RCPT answered after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(2, host.SessionLog.Single().Errors); // successes do not count
        Assert.Equal(550, (await smtp.SendAsync("RCPT TO:<x2@acme.test>")).Code);

        // The fourth error's reply, then 421 without another command being read, then the close.
        clock.Restart();
        await smtp.SendRawAsync("RCPT TO:<x3@acme.test>\r\n");
        Assert.Equal("550 5.1.1 <x3@acme.test>: Recipient address rejected: User unknown", (await smtp.ReadReplyAsync()).Last);
        Assert.Equal("421 4.7.0 mx.acme.test Error: too many errors", (await smtp.ReadReplyAsync()).Last);
        Assert.True(clock.Elapsed >= AtLeast(2 * sleepMs), $"the last error and the 421 came after {clock.ElapsedMilliseconds} ms");
        Assert.True(await smtp.ClosedByServerAsync());

        await host.WaitIdleAsync();
        var session = host.SessionLog.Single();
        Assert.Equal(4, session.Errors);
        Assert.Equal(5, session.RcptCommands);
        Assert.Equal("S: 421 4.7.0 mx.acme.test Error: too many errors", host.Transcript.Lines[^1].ToString());
        Assert.Equal("C: RCPT TO:<x3@acme.test>", host.Transcript.Lines.Last(l => l.Direction == Direction.Received).ToString());
    }

    private static async Task ErrorsCountedAsync(MailHost host, int errors)
    {
        var deadline = Stopwatch.StartNew();
        while (host.SessionLog.Single().Errors < errors && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(5);
        }

        Assert.Equal(errors, host.SessionLog.Single().Errors);
    }

    [Fact]
    public async Task Before_the_soft_limit_replies_do_not_wait_and_each_session_counts_its_own_errors()
    {
        // A sleep far longer than the dialogue's own wait for a reply (20 s): a reply that came at all did not sleep.
        var limits = new ErrorLimits { SoftErrorLimit = 3, ErrorSleepMs = 120_000, HardErrorLimit = 20 };
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test", Behaviour.Normal, "jane") with { ErrorLimits = limits }));
        var endPoint = world.Smtp("mx.acme.test");
        await using (var one = await SmtpDialogue.OpenForRcptAsync(endPoint))
        {
            Assert.Equal(550, (await one.SendAsync("RCPT TO:<x1@acme.test>")).Code);
            Assert.Equal(550, (await one.SendAsync("RCPT TO:<x2@acme.test>")).Code);
            Assert.Equal(550, (await one.SendAsync("RCPT TO:<x3@acme.test>")).Code);
            // The third error reached the soft limit: the next reply sleeps.
            await one.SendRawAsync("NOOP\r\n");
            Assert.True(await one.SilentForAsync(TimeSpan.FromSeconds(1)));
        }

        // A new session starts from no error.
        await using (var two = await SmtpDialogue.OpenForRcptAsync(endPoint))
        {
            Assert.Equal(550, (await two.SendAsync("RCPT TO:<x4@acme.test>")).Code);
            Assert.Equal(250, (await two.SendAsync("RCPT TO:<jane@acme.test>")).Code);
        }
    }

    [Fact]
    public async Task The_postfix_preset_has_Postfix_defaults_sleeping_a_second_after_ten_errors()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("pf.test", Behaviour.Postfix, "pat")));
        Assert.Equal(new ErrorLimits { SoftErrorLimit = 10, ErrorSleepMs = 1000, HardErrorLimit = 20 }, world.Host("mx.pf.test").Owner.EffectiveErrorLimits);
        await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.Smtp("mx.pf.test"));
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<pat@pf.test>")).Code);
        for (var i = 0; i < 10; i++) Assert.Equal(550, (await smtp.SendAsync($"RCPT TO:<x{i}@pf.test>")).Code);
        var clock = Stopwatch.StartNew();
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<pat@pf.test>")).Code);
        Assert.True(clock.Elapsed >= AtLeast(1000), $"answered after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Error_limits_are_off_unless_asked_for_and_their_JSON_defaults_are_Postfixs()
    {
        var world = WorldDescription.Parse("""
            {"domains":[{"name":"a.test","a":true},
                        {"name":"b.test","a":true,"error_limits":{}},
                        {"name":"c.test","a":true,"error_limits":{"error_sleep_ms":200,"hard_error_limit":5}},
                        {"name":"d.test","a":true,"behaviour":"postfix"},
                        {"name":"e.test","a":true,"behaviour":"postfix","error_limits":{"soft_error_limit":1}}]}
            """);
        var limits = world.Domains.Select(d => d.EffectiveErrorLimits).ToList();
        Assert.Null(limits[0]);
        Assert.Equal(new ErrorLimits { SoftErrorLimit = 10, ErrorSleepMs = 1000, HardErrorLimit = 20 }, limits[1]);
        Assert.Equal(new ErrorLimits { SoftErrorLimit = 10, ErrorSleepMs = 200, HardErrorLimit = 5 }, limits[2]);
        Assert.Equal(limits[1], limits[3]);
        Assert.Equal(new ErrorLimits { SoftErrorLimit = 1, ErrorSleepMs = 1000, HardErrorLimit = 20 }, limits[4]);
        Assert.Equal(world.ToJson(), WorldDescription.Parse(world.ToJson()).ToJson());

        var zero = Worlds.Of(Worlds.Domain("z.test") with { ErrorLimits = new ErrorLimits { HardErrorLimit = 0 } });
        await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(zero));
    }

    [Fact]
    public async Task Without_error_limits_a_session_may_make_any_number_of_errors()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test", Behaviour.Normal, "jane")));
        await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.Smtp("mx.acme.test"));
        for (var i = 0; i < 30; i++) Assert.Equal(550, (await smtp.SendAsync($"RCPT TO:<x{i}@acme.test>")).Code);
        Assert.Equal(250, (await smtp.SendAsync("RCPT TO:<jane@acme.test>")).Code);
        await ErrorsCountedAsync(world.Host("mx.acme.test"), 30);
    }
}
