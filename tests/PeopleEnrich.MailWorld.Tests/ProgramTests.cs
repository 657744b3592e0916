using System.Diagnostics;
using System.Globalization;
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
        await File.WriteAllTextAsync(world, Worlds.Sample().ToJson());
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

            var ports = Assert.Single(lines, l => l.StartsWith("HTTP port ", StringComparison.Ordinal)).Split(' ', ',');
            var (httpPort, httpsPort) = (int.Parse(ports[2], CultureInfo.InvariantCulture), int.Parse(ports[6], CultureInfo.InvariantCulture));
            var web = Assert.Single(lines, l => l.StartsWith("WEB shop.test,www.shop.test ", StringComparison.Ordinal)).Split(' ');
            Assert.Equal(["http", "https"], web[3..5]);
            var shop = IPAddress.Parse(web[2]);
            Assert.Equal(shop, (await client.QueryAsync("www.shop.test", QueryType.A)).Answers.ARecords().Single().Address);
            using var http = new HttpClient(new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                ConnectCallback = async (context, ct) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    await socket.ConnectAsync(new IPEndPoint(shop, context.DnsEndPoint.Port), ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            });
            using var redirect = await http.GetAsync($"http://shop.test:{httpPort}/", cts.Token);
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.Equal($"https://www.shop.test:{httpsPort}/", redirect.Headers.Location?.OriginalString);

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

    [Fact]
    public async Task Generate_takes_the_share_of_people_without_a_mailbox_and_the_real_world_behaviours()
    {
        var (code, output, _) = await RunAsync("generate", "--seed", "3", "--domains", "25", "--people", "120", "--no-mailbox", "0.25", "--real-world", "1");
        Assert.Equal(0, code);
        var expected = WorldGenerator.Generate(new WorldGeneratorOptions
        {
            Seed = 3, DomainCount = 25, PeopleCount = 120, PeopleWithoutMailbox = 0.25, RealWorldBehaviours = true,
        });
        Assert.Equal(expected.Description.ToJson(), output.TrimEnd());
        Assert.Contains("\"behaviour\": \"postfix\"", output);

        var (bad, _, error) = await RunAsync("generate", "--no-mailbox", "lots");
        Assert.Equal(2, bad);
        Assert.Contains("usage:", error);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PeopleEnrich.MailWorld.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(cts.Token);
        var error = process.StandardError.ReadToEndAsync(cts.Token);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await output, await error);
    }
}
