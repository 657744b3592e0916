using System.Diagnostics;

namespace PeopleEnrich.Testing;

/// <summary>The environment variables a child app starts with.</summary>
public static class AppEnvironment
{
    /// <summary>Configuration keys as environment variables ("ConnectionStrings:Sqlite" is "ConnectionStrings__Sqlite").</summary>
    public static Dictionary<string, string?> From(IReadOnlyDictionary<string, string?> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

    /// <summary>
    /// This process's environment, less its ConnectionStrings__*, ASPNETCORE_* and DOTNET_ENVIRONMENT
    /// (which database and which environment the child runs in is always its starter's choice, never an
    /// accident of the shell or test host), then <paramref name="environment"/>: a null value removes a variable.
    /// </summary>
    internal static void Apply(ProcessStartInfo start, IReadOnlyDictionary<string, string?> environment)
    {
        foreach (var inherited in start.Environment.Keys.Where(IsCallersConfiguration).ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
    }

    private static bool IsCallersConfiguration(string name) =>
        name.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
        || name is "DOTNET_ENVIRONMENT";
}
