using System.Reflection;
using System.Runtime.Versioning;

namespace PeopleEnrich.Testing;

/// <summary>The built PeopleEnrich app (its PeopleEnrich.dll), run with <c>dotnet PeopleEnrich.dll …</c>.</summary>
public sealed record BuiltApp
{
    private static readonly Lazy<string> SolutionFolder = new(FindSolutionFolder);

    public BuiltApp(string dllPath)
    {
        DllPath = File.Exists(dllPath)
            ? Path.GetFullPath(dllPath)
            : throw new FileNotFoundException($"The app is not built at {dllPath}.", dllPath);
    }

    public string DllPath { get; }

    /// <summary>
    /// src/PeopleEnrich/bin/&lt;configuration&gt;/&lt;tfm&gt;/PeopleEnrich.dll of the solution this assembly was
    /// built in, in the same configuration: building the tests builds it.
    /// </summary>
    public static BuiltApp InThisSolution
    {
        get
        {
            var path = Path.Combine(SolutionRoot, "src", "PeopleEnrich", "bin", BuildConfiguration, TargetFramework, "PeopleEnrich.dll");
            return File.Exists(path)
                ? new BuiltApp(path)
                : throw new FileNotFoundException($"The app is not built at {path}: build the solution in {BuildConfiguration} first.", path);
        }
    }

    /// <summary>The folder holding PeopleEnrich.slnx, above the running program.</summary>
    public static string SolutionRoot => SolutionFolder.Value;

    /// <summary>Debug or Release: the configuration this assembly was built in.</summary>
    public static string BuildConfiguration =>
        typeof(BuiltApp).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } configuration
            ? configuration
            : throw new InvalidOperationException("PeopleEnrich.Testing does not say which configuration it was built in.");

    /// <summary>net10.0: this assembly's target framework, which is the app's.</summary>
    public static string TargetFramework
    {
        get
        {
            var name = typeof(BuiltApp).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName
                ?? throw new InvalidOperationException("PeopleEnrich.Testing has no TargetFrameworkAttribute.");
            var version = new FrameworkName(name).Version;
            return $"net{version.Major}.{version.Minor}";
        }
    }

    /// <summary>The dotnet host that runs this process's tests (DOTNET_HOST_PATH, set by the dotnet CLI), else "dotnet" on the PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string FindSolutionFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PeopleEnrich.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No PeopleEnrich.slnx in {AppContext.BaseDirectory} or any folder above it.");
    }
}
