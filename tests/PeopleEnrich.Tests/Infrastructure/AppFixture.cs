namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>Which database a test class runs on; each test class exists once per provider.</summary>
public interface IDatabaseProvider
{
    static abstract string Name { get; }
}

public sealed class Sqlite : IDatabaseProvider
{
    public static string Name => "sqlite";
}

public sealed class Postgres : IDatabaseProvider
{
    public static string Name => "postgres";
}

/// <summary>
/// One running app per test class and provider. Tests isolate themselves by creating their own
/// accounts. Without a PostgreSQL server the PostgreSQL classes skip (fail, in CI).
/// </summary>
public sealed class AppFixture<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
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

    public async ValueTask InitializeAsync()
    {
        if (TProvider.Name == Postgres.Name && PostgresTestDatabase.Server is null)
        {
            return;
        }

        _app = await TestApp.StartAsync(TProvider.Name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
