using PeopleEnrich.Storage;

namespace PeopleEnrich.Hosting;

/// <summary>
/// What a process does (<c>--role</c>, the <c>Role</c> setting): <see cref="All"/> serves the API and runs the workers;
/// <see cref="Api"/> serves the API and runs no workers; <see cref="Worker"/> runs the workers and serves only its health.
/// Any number of each share one PostgreSQL; SQLite is one process, so there it is always <see cref="All"/>.
/// </summary>
public enum ServerRole
{
    All,
    Api,
    Worker,
}

public static class ServerRoles
{
    public static bool ServesApi(this ServerRole role) => role != ServerRole.Worker;

    public static bool RunsWorkers(this ServerRole role) => role != ServerRole.Api;

    /// <summary>This process's role; false, with one "error: …" line written to <paramref name="error"/>, when it cannot have it.</summary>
    public static bool TryGetRole(this WebApplicationBuilder builder, TextWriter error, out ServerRole role)
    {
        var configured = builder.Configuration["Role"];
        if (!TryParse(configured, out role))
        {
            error.WriteLine($"error: --role must be all, api or worker, not '{configured}'.");
            return false;
        }

        if (role != ServerRole.All && Database.ProviderIn(builder.Configuration) == DatabaseProvider.Sqlite)
        {
            error.WriteLine($"error: --role {Name(role)} needs PostgreSQL (ConnectionStrings:Postgres): SQLite is one process, which serves the API and runs the workers (--role all).");
            return false;
        }

        return true;
    }

    public static string Name(this ServerRole role) => role.ToString().ToLowerInvariant();

    private static bool TryParse(string? configured, out ServerRole role)
    {
        role = ServerRole.All;
        if (string.IsNullOrWhiteSpace(configured))
        {
            return true;
        }

        foreach (var candidate in Enum.GetValues<ServerRole>())
        {
            if (string.Equals(configured.Trim(), candidate.Name(), StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        }

        return false;
    }
}
