using System.CommandLine;
using System.Text.Json.Nodes;
using PeopleEnrich.Accounts;
using PeopleEnrich.Credits;
using PeopleEnrich.Hosting;
using PeopleEnrich.Pipeline;
using PeopleEnrich.Sources;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Storage;
using Spectre.Console;

namespace PeopleEnrich.Admin;

/// <summary>
/// The operator's commands, run by the same executable against the configured database (safe while
/// the server runs: every change is its own transaction).
/// </summary>
public static class AdminCommands
{
    private static readonly HashSet<string> Groups = ["accounts", "keys", "credits", "directory"];

    public static bool Handles(string[] args) => args.Length > 0 && Groups.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorage(builder.Configuration);
        builder.Services.AddCredits();
        builder.Services.AddAccounts(builder.Configuration);
        builder.Services.AddResultsCache(builder.Configuration);
        builder.Services.AddDirectory();
        using var host = builder.Build();

        var root = new RootCommand("PeopleEnrich: with no command, serves the API; these commands manage it.")
        {
            AccountsCommand(host.Services),
            KeysCommand(host.Services),
            CreditsCommand(host.Services),
            DirectoryCommand(host.Services),
        };
        return await root.Parse(args).InvokeAsync();
    }

    private static Command AccountsCommand(IServiceProvider services)
    {
        var name = new Option<string>("--name") { Description = "The account's name (unique)", Required = true };
        var credits = new Option<long>("--credits") { Description = "Credits granted at creation", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print {\"account_id\", \"api_key\"} as JSON" };
        var create = new Command("create", "Create an account and its first API key (shown only this once)") { name, credits, json };
        create.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var created = await accounts.CreateAccountAsync(result.GetValue(name)!, result.GetValue(credits), null, cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(new JsonObject { ["account_id"] = created.AccountId, ["api_key"] = created.ApiKey }.ToJsonString());
            }
            else
            {
                Console.WriteLine($"Created account '{created.Name}' ({created.AccountId}) with {result.GetValue(credits)} credits.");
                Console.WriteLine($"API key, shown only this once: {created.ApiKey}");
            }
        }, cancellationToken));

        var list = new Command("list", "List accounts with their credits and active keys");
        list.SetAction((_, cancellationToken) => RunAsync(services, async accounts =>
        {
            var table = new Table().AddColumns("id", "name", "total", "used", "reserved", "remaining", "active keys");
            table.Columns[0].NoWrap();
            foreach (var account in await accounts.ListAsync(cancellationToken))
            {
                table.AddRow(account.Id, Markup.Escape(account.Name), $"{account.TotalCredits}", $"{account.UsedCredits}",
                    $"{account.ReservedCredits}", $"{account.RemainingCredits}", Markup.Escape(string.Join(" ", account.ActiveKeys)));
            }

            if (Console.IsOutputRedirected)
            {
                // No terminal to measure: Spectre would assume 80 columns and fold names and key prefixes across lines.
                AnsiConsole.Profile.Width = 4096;
            }

            AnsiConsole.Write(table);
        }, cancellationToken));
        return new Command("accounts", "Accounts") { create, list };
    }

    private static Command KeysCommand(IServiceProvider services)
    {
        var account = new Option<string>("--account") { Description = "The account's id (or name)", Required = true };
        var create = new Command("create", "Create another API key for an account (shown only this once)") { account };
        create.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var key = await accounts.CreateKeyAsync(result.GetValue(account)!, cancellationToken);
            Console.WriteLine($"API key, shown only this once: {key}");
            Console.WriteLine($"Revoke it with: keys revoke {ApiKeys.LookupPrefix(key)}");
        }, cancellationToken));

        var prefix = new Argument<string>("KEY_PREFIX") { Description = "The key's first characters, e.g. pe_AbCd1234" };
        var revoke = new Command("revoke", "Revoke an API key: it stops working at once") { prefix };
        revoke.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var revoked = await accounts.RevokeKeyAsync(result.GetValue(prefix)!, cancellationToken);
            Console.WriteLine($"Revoked the key {revoked}…");
        }, cancellationToken));
        return new Command("keys", "API keys") { create, revoke };
    }

    private static Command CreditsCommand(IServiceProvider services)
    {
        var account = new Option<string>("--account") { Description = "The account's id (or name)", Required = true };
        var amount = new Option<long>("--amount") { Description = "Credits to add", Required = true };
        var grant = new Command("grant", "Add credits to an account") { account, amount };
        grant.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var balance = await accounts.GrantCreditsAsync(result.GetValue(account)!, result.GetValue(amount), cancellationToken);
            Console.WriteLine($"Granted {result.GetValue(amount)}: total {balance.Total}, used {balance.Used}, reserved {balance.Reserved}, remaining {balance.Remaining}.");
        }, cancellationToken));
        return new Command("credits", "Credits") { grant };
    }

    private static Command DirectoryCommand(IServiceProvider services)
    {
        var file = new Argument<FileInfo>("FILE.csv") { Description = "CSV with a header row: firstname, lastname, domain, email, phone, linkedin_url, company_name, region" };
        var import = new Command("import", "Import known contacts from a CSV file (importing it again changes nothing)") { file };
        import.SetAction((result, cancellationToken) => RunAsync(services, async _ =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                throw new AdminInputException($"No file at {path.FullName}.");
            }

            using var reader = new StreamReader(path.FullName);
            var report = await services.GetRequiredService<DirectoryImporter>().ImportAsync(reader, cancellationToken);
            Console.WriteLine($"Rows read: {report.RowsRead}; imported: {report.Imported}; updated: {report.Updated}; unchanged: {report.Unchanged}; skipped: {report.SkippedCount}.");
            foreach (var note in report.Skipped)
            {
                Console.WriteLine($"  skipped line {note.Line}: {note.Message}");
            }

            foreach (var note in report.Warnings)
            {
                Console.WriteLine($"  line {note.Line}: {note.Message}");
            }
        }, cancellationToken));
        return new Command("directory", "The known-contacts directory") { import };
    }

    /// <summary>Migrates first (the server may never have run), then reports mistakes plainly with exit code 1.</summary>
    private static async Task<int> RunAsync(IServiceProvider services, Func<AccountStore, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await services.PrepareDatabaseAsync(bootstrap: false, cancellationToken);
            await action(services.GetRequiredService<AccountStore>());
            return 0;
        }
        catch (Exception exception) when (exception is AdminInputException or DirectoryImportException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: {exception.Message}");
            return 1;
        }
    }
}
