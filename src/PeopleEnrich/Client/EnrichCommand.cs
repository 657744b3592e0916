using System.CommandLine;
using System.CommandLine.Parsing;
using PeopleEnrich.Spreadsheets;

namespace PeopleEnrich.Client;

/// <summary>
/// 'enrich INPUT.csv': a client of the HTTP API, run by the same executable before any server or
/// database is set up. It knows nothing of the server but its contract.
/// </summary>
public static class EnrichCommand
{
    public const string KeyVariable = "PEOPLEENRICH_API_KEY";
    private const string DefaultServer = "http://localhost:8080";

    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "enrich";

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("PeopleEnrich") { Create() };
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) });
    }

    /// <summary>The 'enrich' command, its arguments, options and action (also listed by the program's help).</summary>
    public static Command Create()
    {
        var input = new Argument<string>("INPUT.csv") { Description = "The leads: a CSV with a header row (comma, semicolon or tab; UTF-8)" };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the enriched CSV (default: INPUT.enriched.csv beside the input)", HelpName = "OUTPUT.csv" };
        var server = new Option<Uri>("--server")
        {
            Description = "The API's base address",
            HelpName = "URL",
            DefaultValueFactory = _ => new Uri(DefaultServer),
            CustomParser = ParseServer,
        };
        var key = new Option<string>("--key") { Description = $"The API key (default: the environment variable {KeyVariable})", HelpName = "KEY" };
        var fields = new Option<(bool Emails, bool Phones)>("--fields")
        {
            Description = "What to look for: emails, phones or both (emails,phones)",
            HelpName = "emails,phones",
            DefaultValueFactory = _ => (true, true),
            CustomParser = ParseFields,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the column mapping, the rows that cannot be sent and the most it can cost; send nothing" };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Batches of 100 in flight at once (1 to 16)",
            HelpName = "N",
            DefaultValueFactory = _ => 4,
            Validators = { result => { if (result.GetValueOrDefault<int>() is < 1 or > 16) { result.AddError("--parallel takes 1 to 16"); } } },
        };
        var command = new Command("enrich", "Enrich a CSV of leads through the API: every row and column kept, the emails and phones found added")
        {
            input, output, server, key, fields, dryRun, parallel,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            // Relative to where the user ran the command, not to the binary (the server's content root).
            var inputPath = Path.GetFullPath(result.GetValue(input)!, Environment.CurrentDirectory);
            var outputPath = result.GetValue(output) is { Length: > 0 } given
                ? Path.GetFullPath(given, Environment.CurrentDirectory)
                : Path.Combine(Path.GetDirectoryName(inputPath)!, Path.GetFileNameWithoutExtension(inputPath) + ".enriched.csv");
            if (outputPath == inputPath)
            {
                await Console.Error.WriteLineAsync("error: the output would overwrite the input; give another -o");
                return 1;
            }

            var (emails, phones) = result.GetValue(fields);
            var settings = new EnrichSettings(inputPath, outputPath, result.GetValue(server)!, result.GetValue(key) ?? Environment.GetEnvironmentVariable(KeyVariable),
                emails, phones, result.GetValue(dryRun), result.GetValue(parallel));
            try
            {
                return await new EnrichRun(settings, TimeProvider.System).RunAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is LeadFileException or EnrichApiException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"error: {exception.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("Interrupted: run the same command again to go on; what was already submitted is not charged twice.");
                return 130;
            }
        });

        return command;
    }

    private static Uri ParseServer(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : DefaultServer;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            result.AddError($"--server takes an http:// or https:// address, not '{text}'");
            return new Uri(DefaultServer);
        }

        // A base address must end with "/" for relative paths to land under it (https://host/pe/ + api/v2/...).
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    private static (bool Emails, bool Phones) ParseFields(ArgumentResult result)
    {
        var emails = false;
        var phones = false;
        foreach (var word in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            switch (word.ToLowerInvariant())
            {
                case "emails" or "email" or "contact.emails":
                    emails = true;
                    break;
                case "phones" or "phone" or "contact.phones":
                    phones = true;
                    break;
                default:
                    result.AddError($"--fields takes emails, phones or emails,phones, not '{word}'");
                    break;
            }
        }

        return emails || phones ? (emails, phones) : (true, true);
    }
}
