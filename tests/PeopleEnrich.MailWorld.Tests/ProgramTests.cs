using System.Diagnostics;
using System.Net;
using DnsClient;

namespace PeopleEnrich.MailWorld.Tests;

public sealed class ProgramTests
{
    [Fact]
    public async Task The_program_prints_its_addresses_serves_them_and_stops_on_SIGTERM()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "PeopleEnrich.MailWorld.dll");
        var world = Path.Combine(Path.GetTempPath(), $"mailworld-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(world, (Worlds.Sample() with { SmtpPort = 0 }).ToJson());
        using var process = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { dll, world }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            var lines = new List<string>();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line && !line.StartsWith("Ready", StringComparison.Ordinal)) lines.Add(line);

            var dnsLine = Assert.Single(lines, l => l.StartsWith("DNS ", StringComparison.Ordinal));
            var dns = IPEndPoint.Parse(dnsLine["DNS ".Length..]);
            Assert.Contains(lines, l => l.StartsWith("SMTP mx1.acme.test 127.0.0.2:", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("SMTP mx.private.test 10.0.0.5 (DNS only", StringComparison.Ordinal));

            var client = new LookupClient(new LookupClientOptions(new NameServer(dns)) { UseCache = false, Timeout = TimeSpan.FromSeconds(10) });
            Assert.Equal(2, (await client.QueryAsync("acme.test", QueryType.MX)).Answers.MxRecords().Count());

            var smtpLine = lines.Single(l => l.StartsWith("SMTP mx1.acme.test ", StringComparison.Ordinal)).Split(' ')[2];
            var (smtp, greeting) = await SmtpDialogue.OpenAsync(IPEndPoint.Parse(smtpLine));
            await using (smtp) Assert.Equal(220, greeting.Code);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(cts.Token);
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            File.Delete(world);
        }
    }
}
