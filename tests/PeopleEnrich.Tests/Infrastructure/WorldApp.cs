extern alias SimulatedWorld;

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A simulated mail world on loopback and the real app pointed at it: its DNS server is the app's
/// only resolver, its SMTP servers the only ones the app may reach (loopback only: a world's MX at
/// 10.0.0.5 is still refused).
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

    public static IReadOnlyDictionary<string, string?> SettingsFor(World world) => new Dictionary<string, string?>
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

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await World.DisposeAsync();
    }
}
