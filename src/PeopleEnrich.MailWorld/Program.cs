using System.Runtime.InteropServices;
using PeopleEnrich.MailWorld;

// dotnet run --project src/PeopleEnrich.MailWorld -- world.json
// dotnet run --project src/PeopleEnrich.MailWorld -- generate [--seed N] [--domains N] [--people N] [--tarpit-ms N] [--websites 1]
if (args.Length >= 1 && args[0] == "generate")
{
    var options = new WorldGeneratorOptions();
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        var value = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
        options = args[i] switch
        {
            "--seed" => options with { Seed = value },
            "--domains" => options with { DomainCount = value },
            "--people" => options with { PeopleCount = value },
            "--tarpit-ms" => options with { TarpitMs = value },
            "--websites" => options with { Websites = value != 0 },
            _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
        };
    }
    Console.WriteLine(WorldGenerator.Generate(options).Description.ToJson());
    return 0;
}
if (args.Length != 1 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: PeopleEnrich.MailWorld WORLD.json");
    Console.Error.WriteLine("       PeopleEnrich.MailWorld generate [--seed N] [--domains N] [--people N] [--tarpit-ms N] [--websites 1]");
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
