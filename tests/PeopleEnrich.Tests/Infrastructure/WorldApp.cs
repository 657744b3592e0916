extern alias SimulatedWorld;

using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Testing;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// A simulated mail world on loopback and the real app (in this process) pointed at it by
/// <see cref="WorldSettings"/>.
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

            if (all.Keys.Any(key => key.StartsWith("Smtp:GreylistRetryAfter:", StringComparison.Ordinal)))
            {
                // A schedule given step by step replaces the tests' one-step default, which would otherwise be read instead of it.
                all.Remove("Smtp:GreylistRetryAfter");
            }

            return new WorldApp(world, await TestApp.StartAsync(provider, all, services));
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary><see cref="WorldSettings.For"/>, with the tests' HELO name, and time-outs short enough for a test to see them run out.</summary>
    public static IReadOnlyDictionary<string, string?> SettingsFor(World world)
    {
        var settings = WorldSettings.For(world);
        settings["Smtp:HeloName"] = "verifier.peopleenrich.test";
        settings["Smtp:ConnectTimeout"] = "00:00:03";
        settings["Smtp:CommandTimeout"] = "00:00:03";
        settings["Smtp:GreylistRetryAfter"] = "00:00:03";
        settings["Workers:Concurrency"] = "8";
        if (world.Websites.Count > 0)
        {
            settings["Crawler:Timeout"] = "00:00:05";
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await World.DisposeAsync();
    }
}
