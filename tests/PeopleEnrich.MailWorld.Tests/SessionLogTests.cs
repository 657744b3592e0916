namespace PeopleEnrich.MailWorld.Tests;

public sealed class SessionLogTests
{
    [Fact]
    public async Task Each_session_is_logged_with_its_times_its_RCPT_commands_and_how_many_were_open_with_it()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("acme.test", Behaviour.Normal, "jane")));
        var host = world.Host("mx.acme.test");
        var endPoint = world.Smtp("mx.acme.test");

        // Three sessions held open together, with 2, 0 and 1 RCPT commands.
        var open = new List<SmtpDialogue>();
        foreach (var rcpts in new[] { 2, 0, 1 })
        {
            var smtp = await SmtpDialogue.OpenForRcptAsync(endPoint);
            open.Add(smtp);
            for (var i = 0; i < rcpts; i++) await smtp.SendAsync($"RCPT TO:<x{i}@acme.test>");
        }
        Assert.Equal(3, host.ActiveSessions);
        foreach (var smtp in open)
        {
            await smtp.SendAsync("QUIT");
            Assert.True(await smtp.ClosedByServerAsync());
            await smtp.DisposeAsync();
        }
        await host.WaitIdleAsync();

        // Then one alone.
        var (last, _) = await SmtpDialogue.OpenAsync(endPoint);
        await using (last) await last.SendAsync("QUIT");
        await host.WaitIdleAsync();

        var log = host.SessionLog;
        Assert.Equal(4, log.Count);
        Assert.Equal([1, 2, 3, 1], log.Select(s => s.ActiveAtStart));
        Assert.Equal([2, 0, 1, 0], log.Select(s => s.RcptCommands));
        Assert.Equal(3, host.PeakActiveSessions);
        Assert.Equal(host.RcptCommands, log.Sum(s => s.RcptCommands));
        Assert.All(log, s => Assert.Equal("127.0.0.1", s.Client.ToString()));
        Assert.All(log, s => Assert.True(s.Ended >= s.Started, s.ToString()));
        Assert.Equal(log.Select(s => s.Id), host.Transcript.Sessions);
        // The times tell the same story: the three first overlap (each began before any ended), the last began after them.
        var firstThree = log.Take(3).ToList();
        Assert.True(firstThree.Max(s => s.Started) <= firstThree.Min(s => s.Ended!.Value));
        Assert.True(log[3].Started >= firstThree.Max(s => s.Ended!.Value));
    }

    [Fact]
    public async Task A_session_refused_at_connect_is_logged_too_and_a_reset_clears_the_log()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Worlds.Domain("busy.test", Behaviour.Busy, "bea") with { MaxSessions = 1 }));
        var host = world.Host("mx.busy.test");
        var (first, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.busy.test"));
        var (second, refused) = await SmtpDialogue.OpenAsync(world.Smtp("mx.busy.test"));
        await using (second)
        {
            Assert.Equal(421, refused.Code);
            Assert.True(await second.ClosedByServerAsync());
        }
        Assert.Equal([1, 2], host.SessionLog.Select(s => s.ActiveAtStart));
        Assert.Null(host.SessionLog[0].Ended); // still open
        Assert.Equal(2, host.PeakActiveSessions);

        world.ResetObservations();
        Assert.Empty(host.SessionLog);
        Assert.Equal(0, host.PeakActiveSessions);

        // The session open across the reset still counts as open for the next one.
        var (third, _) = await SmtpDialogue.OpenAsync(world.Smtp("mx.busy.test"));
        await using (third) Assert.True(await third.ClosedByServerAsync());
        Assert.Equal(2, Assert.Single(host.SessionLog).ActiveAtStart);
        await first.DisposeAsync();
    }
}
