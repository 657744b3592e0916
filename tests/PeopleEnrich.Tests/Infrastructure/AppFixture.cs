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
public sealed class AppFixture<TProvider> : ConfiguredAppFixture<TProvider> where TProvider : IDatabaseProvider
{
    protected override Task<IReadOnlyDictionary<string, string?>> PrepareAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());
}
