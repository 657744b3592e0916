using System.Net;
using DnsClient;

namespace PeopleEnrich.MailWorld.Tests;

internal static class Worlds
{
    /// <summary>samples/world.json with free ports, so tests run side by side.</summary>
    public static WorldDescription Sample() =>
        WorldDescription.Load(Path.Combine(AppContext.BaseDirectory, "samples", "world.json")) with { SmtpPort = 0, DnsPort = 0, HttpPort = 0, HttpsPort = 0 };

    public static WorldDescription Of(params DomainDescription[] domains) => new() { Domains = domains };

    public static DomainDescription Domain(string name, Behaviour behaviour = Behaviour.Normal, params string[] mailboxes) => new()
    {
        Name = name,
        Mx = [new MxDescription { Preference = 10, Host = "mx." + name }],
        Mailboxes = mailboxes,
        Behaviour = behaviour,
    };

    public static IPEndPoint Smtp(this MailWorld world, string host) => world.Host(host).EndPoint!;

    public static LookupClient Dns(this MailWorld world, bool tcp) => new(new LookupClientOptions(new NameServer(world.DnsEndPoint))
    {
        UseCache = false,
        Retries = 1,
        Timeout = TimeSpan.FromSeconds(10),
        UseTcpOnly = tcp,
        UseTcpFallback = false,
        ThrowDnsErrors = false,
        ContinueOnDnsError = false,
        Recursion = false,
    });
}
