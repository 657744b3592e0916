namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// Like <see cref="AppFixture{TProvider}"/>, one running app per test class and provider, but
/// started with settings that the fixture first prepares (files to write, servers to start) and
/// cleans up after the app has stopped.
/// </summary>
public abstract class ConfiguredAppFixture<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private TestApp? _app;

    public TestApp App
    {
        get
        {
            if (_app is null)
            {
                PostgresTestDatabase.RequireServer();
            }

            return _app!;
        }
    }

    /// <summary>The settings to start the app with (added to the harness's own).</summary>
    protected abstract Task<IReadOnlyDictionary<string, string?>> PrepareAsync();

    /// <summary>Runs once the app has stopped.</summary>
    protected virtual ValueTask CleanupAsync() => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        if (TProvider.Name == Postgres.Name && PostgresTestDatabase.Server is null)
        {
            return;
        }

        _app = await TestApp.StartAsync(TProvider.Name, await PrepareAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await CleanupAsync();
        GC.SuppressFinalize(this);
    }
}
