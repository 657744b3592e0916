extern alias SimulatedWorld;

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A simulated mail world on loopback and the real app pointed at it: its DNS server is the app's
/// only resolver, its SMTP and web servers the only ones the app may reach (loopback only: a world's
/// MX or website at 10.0.0.5 is still refused). The crawler runs only in worlds that have websites.
/// </summary>
public sealed class WorldApp : IAsyncDisposable
{
    private WorldApp(World world, TestApp app)
    {
        World = world;
        App = app;
    }

    public World World { get; }

    public TestApp App { get; }

    /// <param name="services">Passed to <see cref="TestApp.StartAsync"/> (e.g. a logger provider that captures the app's logs).</param>
    public static async Task<WorldApp> StartAsync(
        string provider, WorldDescription description, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var world = await World.StartAsync(description);
        try
        {
            var all = new Dictionary<string, string?>(SettingsFor(world));
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                all[key] = value;
            }

            return new WorldApp(world, await TestApp.StartAsync(provider, all, services));
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    public static IReadOnlyDictionary<string, string?> SettingsFor(World world) => new Dictionary<string, string?>(world.Websites.Count == 0 ? [] : CrawlerSettingsFor(world))
    {
        ["Smtp:Enabled"] = "true",
        ["Smtp:Port"] = world.SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Smtp:HeloName"] = "verifier.peopleenrich.test",
        ["Smtp:ConnectTimeout"] = "00:00:03",
        ["Smtp:CommandTimeout"] = "00:00:03",
        ["Smtp:GreylistRetryAfter"] = "00:00:03",
        ["Dns:Servers:0"] = world.DnsEndPoint.ToString(),
        ["Dns:Timeout"] = "00:00:03",
        ["Network:AllowLoopbackAddresses"] = "true",
        ["Workers:Concurrency"] = "8",
    };

    /// <summary>The crawler on, at the world's web ports (for URLs that name none), trusting the world's certificate.</summary>
    public static IReadOnlyDictionary<string, string?> CrawlerSettingsFor(World world)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Crawler:Enabled"] = "true",
            ["Crawler:TrustedCertificatePem"] = world.CertificatePem,
            ["Crawler:Timeout"] = "00:00:05",
        };
        // A world whose sites all refuse one scheme binds no port for it: the default stays, and nothing answers there.
        if (world.HttpPort > 0)
        {
            settings["Crawler:HttpPort"] = world.HttpPort.ToString(CultureInfo.InvariantCulture);
        }

        if (world.HttpsPort > 0)
        {
            settings["Crawler:HttpsPort"] = world.HttpsPort.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await World.DisposeAsync();
    }
}
