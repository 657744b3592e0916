using System.Runtime.InteropServices;
using PeopleEnrich.MailWorld;

// dotnet run --project src/PeopleEnrich.MailWorld -- world.json
// dotnet run --project src/PeopleEnrich.MailWorld -- generate [--seed N] [--domains N] [--people N] [--tarpit-ms N] [--websites 1]
//                                                   [--no-mailbox SHARE] [--real-world 1] [--realistic-patterns 1]
const string GenerateUsage = "       PeopleEnrich.MailWorld generate [--seed N] [--domains N] [--people N] [--tarpit-ms N] [--websites 1] [--no-mailbox 0.25] [--real-world 1] [--realistic-patterns 1]";
if (args.Length >= 1 && args[0] == "generate")
{
    var options = new WorldGeneratorOptions();
    try
    {
        for (var i = 1; i < args.Length; i += 2)
        {
            if (i + 1 == args.Length) throw new FormatException($"Option '{args[i]}' has no value.");
            var text = args[i + 1];
            int Int() => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--seed" => options with { Seed = Int() },
                "--domains" => options with { DomainCount = Int() },
                "--people" => options with { PeopleCount = Int() },
                "--tarpit-ms" => options with { TarpitMs = Int() },
                "--websites" => options with { Websites = Int() != 0 },
                "--no-mailbox" => options with { PeopleWithoutMailbox = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture) },
                "--real-world" => options with { RealWorldBehaviours = Int() != 0 },
                "--realistic-patterns" => options with { PatternShares = Int() != 0 ? WorldGenerator.RealisticPatternShares : null },
                _ => throw new FormatException($"Unknown option '{args[i]}'."),
            };
        }
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine(e.Message);
        Console.Error.WriteLine($"usage: {GenerateUsage.Trim()}");
        return 2;
    }
    Console.WriteLine(WorldGenerator.Generate(options).Description.ToJson());
    return 0;
}
if (args.Length != 1 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: PeopleEnrich.MailWorld WORLD.json");
    Console.Error.WriteLine(GenerateUsage);
    return 2;
}

WorldDescription description;
try
{
    description = WorldDescription.Load(args[0]);
}
catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"Cannot read the world '{args[0]}': {e.Message}");
    return 2;
}

var stopped = new TaskCompletionSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopped.TrySetResult(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.TrySetResult(); });

await using var world = await MailWorld.StartAsync(description);
Console.WriteLine($"DNS {world.DnsEndPoint}");
foreach (var list in description.BlockLists ?? []) Console.WriteLine($"DNSBL {list.Zone} answers {list.Answer} for {string.Join(',', list.Listed)}");
foreach (var (address, name) in description.Ptr ?? new Dictionary<string, string>()) Console.WriteLine($"PTR {address} {name}");
foreach (var host in world.Hosts)
{
    var where = host.EndPoint is { } ep ? ep.ToString()
        : host.RefusesConnections ? $"{host.Address}:{world.SmtpPort} (refuses connections)"
        : $"{host.Address} (DNS only, not listening)";
    Console.WriteLine($"SMTP {host.Name} {where} {host.Behaviour.JsonName()}{(host.Owner.Starttls != StartTls.None ? " starttls=" + host.Owner.Starttls.ToString().ToLowerInvariant() : "")} domains={string.Join(',', host.Domains)}");
}
if (world.Websites.Count > 0) Console.WriteLine($"HTTP port {world.HttpPort}, HTTPS port {world.HttpsPort}");
foreach (var site in world.Websites)
{
    var schemes = string.Join(' ', new[] { site.HttpEndPoint is null ? null : "http", site.HttpsEndPoint is null ? null : "https" }.OfType<string>());
    var where = site.Listening ? $"{site.Address} {schemes}" : $"{site.Address} (DNS only, not listening)";
    Console.WriteLine($"WEB {string.Join(',', site.HostNames)} {where} pages={site.Description.Pages.Count}{(site.Description.RobotsTxt is null ? "" : " robots.txt")}");
}
Console.WriteLine("Ready. Ctrl+C or SIGTERM stops the world.");
await stopped.Task;
Console.WriteLine($"Stopping. DATA attempts: {world.DataAttempts}.");
return world.DataAttempts == 0 ? 0 : 1;
