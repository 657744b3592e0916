using System.CommandLine;

namespace PeopleEnrich.Admin;

/// <summary>
/// The program's whole help on one screen: how to serve, then every command with its arguments and options,
/// so a newcomer sees everything without asking each group for its own --help.
/// </summary>
public static class CommandsHelp
{
    private const string Executable = "PeopleEnrich";

    public static void Write(RootCommand root, TextWriter output)
    {
        output.WriteLine($"Usage: {Executable} [command] [options]   (dotnet run --project src/PeopleEnrich -- [command] [options])");
        output.WriteLine();
        output.WriteLine("With no command, serves the API and the workers (http://localhost:8080 unless --urls says otherwise).");
        output.WriteLine("  --urls URL            Where to listen, e.g. http://0.0.0.0:8080");
        output.WriteLine("  --role api|worker|all What this process does in a cluster (default all)");
        output.WriteLine("  Settings: appsettings.json beside the binary, environment variables (Section__Key), or --Section:Key=value.");
        output.WriteLine();
        output.WriteLine("Commands:");
        foreach (var command in root.Subcommands)
        {
            WriteCommand(command, command.Name, output);
        }

        output.WriteLine();
        output.WriteLine($"'{Executable} <command> --help' shows one command's help.");
    }

    private static string ValueName(Type type) =>
        type == typeof(int) || type == typeof(long) ? "N" : type == typeof(string) ? "VALUE" : type.Name.ToUpperInvariant();

    private static void WriteCommand(Command command, string path, TextWriter output)
    {
        if (command.Subcommands.Count > 0)
        {
            foreach (var sub in command.Subcommands)
            {
                WriteCommand(sub, $"{path} {sub.Name}", output);
            }

            return;
        }

        var arguments = string.Concat(command.Arguments.Where(a => !a.Hidden).Select(a => $" <{a.Name}>"));
        var options = command.Options.Where(o => !o.Hidden).ToList();
        output.WriteLine();
        output.WriteLine($"  {path}{arguments}{(options.Count > 0 ? " [options]" : "")}");
        output.WriteLine($"      {command.Description}");
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            output.WriteLine($"      <{argument.Name}>  {argument.Description}");
        }

        foreach (var option in options)
        {
            var names = string.Join(", ", option.Aliases.Order().Prepend(option.Name));
            var value = option.ValueType == typeof(bool) ? "" : $" {option.HelpName ?? ValueName(option.ValueType)}";
            output.WriteLine($"      {names}{value}  {option.Description}{(option.Required ? " (required)" : "")}");
        }
    }
}
