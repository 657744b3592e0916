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

    /// <summary>Waits (at most 20 s) until the host has no session open: a client's close reaches the server a moment later.</summary>
    public static async Task WaitIdleAsync(this MailHost host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (host.ActiveSessions > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, host.ActiveSessions);
    }

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
