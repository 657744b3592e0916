using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PeopleEnrich.Accounts;
using PeopleEnrich.Admin.Audit;
using PeopleEnrich.Admin.Doctor;
using PeopleEnrich.Credits;
using PeopleEnrich.Hosting;
using PeopleEnrich.Pipeline;
using PeopleEnrich.Sources;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Storage;
using PeopleEnrich.Webhooks;
using Spectre.Console;

namespace PeopleEnrich.Admin;

/// <summary>
/// The operator's commands, run by the same executable against the configured database (safe while
/// the server runs: every change is its own transaction).
/// </summary>
public static class AdminCommands
{
    private static readonly HashSet<string> Groups = ["accounts", "keys", "credits", "directory", "doctor", "audit", "suppressions", "people", "webhooks"];

    /// <summary>The commands that change something: each run of one (its outcome too) is an entry of the audit trail.</summary>
    private static readonly HashSet<string> Changing =
        ["accounts create", "keys create", "keys revoke", "credits grant", "directory import", "suppressions add", "suppressions remove", "people erase",
         "webhooks set", "webhooks clear", "webhooks secret"];

    public static bool Handles(string[] args) => args.Length > 0 && Groups.Contains(args[0]);

    /// <summary>"help", "--help", "-h" or "-?" alone: the list of every command, instead of starting the server.</summary>
    public static bool AsksForHelp(string[] args) => args is ["help" or "--help" or "-h" or "-?"];

    /// <summary>Runs an admin command, or prints the help of every command (<paramref name="others"/> are listed too).</summary>
    public static async Task<int> RunAsync(string[] args, params Command[] others)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorage(builder.Configuration);
        builder.Services.AddCredits();
        builder.Services.AddAccounts(builder.Configuration);
        builder.Services.AddResultsCache(builder.Configuration);
        builder.Services.AddDirectory();
        builder.Services.AddDoctor(builder.Configuration);
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddPersonalData();
        builder.Services.AddWebhooks(builder.Configuration);
        using var host = builder.Build();

        var root = new RootCommand("PeopleEnrich: with no command, serves the API; these commands manage it.")
        {
            AccountsCommand(host.Services),
            KeysCommand(host.Services),
            CreditsCommand(host.Services),
            DirectoryCommand(host.Services),
            DoctorCommand.Create(host.Services),
            AuditCommand(host.Services),
            PrivacyCommands.Suppressions(host.Services),
            PrivacyCommands.People(host.Services),
            WebhookCommands.Create(host.Services),
        };
        foreach (var other in others)
        {
            root.Subcommands.Insert(0, other);
        }

        if (AsksForHelp(args))
        {
            CommandsHelp.Write(root, Console.Out);
            return 0;
        }

        var parsed = root.Parse(args);
        var exitCode = await parsed.InvokeAsync();
        if (parsed.Errors.Count == 0 && CommandPath(root, parsed.CommandResult.Command) is { } path && Changing.Contains(path))
        {
            exitCode = await ReportingMistakesAsync(async () =>
            {
                await host.Services.PrepareDatabaseAsync(bootstrap: false, CancellationToken.None);
                await host.Services.GetRequiredService<AuditTrail>().RecordAsync(path, args[path.Split(' ').Length..], exitCode == 0 ? "ok" : $"failed (exit code {exitCode})", CancellationToken.None);
                return exitCode;
            });
        }

        return exitCode;
    }

    /// <summary>"group command" for a command of a group, else null.</summary>
    private static string? CommandPath(RootCommand root, Command command) =>
        root.Subcommands.FirstOrDefault(group => group.Subcommands.Contains(command)) is { } parent ? $"{parent.Name} {command.Name}" : null;

    private static Command AuditCommand(IServiceProvider services)
    {
        var limit = new Option<int>("--limit") { Description = "How many entries, newest first", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "Who changed what with these commands, newest first (secrets masked)") { limit };
        list.SetAction((result, cancellationToken) => RunAsync(services, async _ =>
        {
            var entries = await services.GetRequiredService<AuditTrail>().ListAsync(CheckedLimit(result.GetValue(limit)), cancellationToken);
            var table = new Table().AddColumns("time (UTC)", "user", "command", "arguments", "outcome");
            foreach (var entry in entries)
            {
                table.AddRow(Markup.Escape(entry.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)), Markup.Escape(entry.User),
                    Markup.Escape(entry.Command), Markup.Escape(entry.Arguments), Markup.Escape(entry.Outcome));
            }

            WriteTable(table);
            Console.WriteLine(entries.Count == 0 ? "No entries." : $"{entries.Count} entries, newest first.");
        }, cancellationToken));
        return new Command("audit", "The audit trail of admin commands that change something") { list };
    }

    private static int CheckedLimit(int limit) =>
        limit is < 1 or > 10_000 ? throw new AdminInputException("--limit must be from 1 to 10000.") : limit;

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

        var listJson = new Option<bool>("--json") { Description = "Print the accounts as a JSON array" };
        var list = new Command("list", "List accounts with their credits (charged, and refunded for reported bounces) and active keys") { listJson };
        list.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var all = await accounts.ListAsync(cancellationToken);
            if (result.GetValue(listJson))
            {
                Console.WriteLine(new JsonArray(all.Select(account => (JsonNode)new JsonObject
                {
                    ["account_id"] = account.Id,
                    ["name"] = account.Name,
                    ["total"] = account.TotalCredits,
                    ["used"] = account.UsedCredits,
                    ["reserved"] = account.ReservedCredits,
                    ["remaining"] = account.RemainingCredits,
                    ["charged"] = account.ChargedCredits,
                    ["refunded"] = account.RefundedCredits,
                    ["refunds"] = account.Refunds,
                    ["active_keys"] = new JsonArray(account.ActiveKeys.Select(key => (JsonNode)key!).ToArray()),
                }).ToArray()).ToJsonString());
                return;
            }

            // Charged and refunded side by side: an account whose refunds approach its charges reports more bounces than it could have had.
            var table = new Table().AddColumns("id", "name", "total", "used", "reserved", "remaining", "charged", "refunded", "active keys");
            table.Columns[0].NoWrap();
            foreach (var account in all)
            {
                table.AddRow(account.Id, Markup.Escape(account.Name), $"{account.TotalCredits}", $"{account.UsedCredits}",
                    $"{account.ReservedCredits}", $"{account.RemainingCredits}", $"{account.ChargedCredits}",
                    account.Refunds == 0 ? "0" : $"{account.RefundedCredits} ({account.Refunds} bounce{(account.Refunds == 1 ? "" : "s")})",
                    Markup.Escape(string.Join(" ", account.ActiveKeys)));
            }

            WriteTable(table);
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
        var limit = new Option<int>("--limit") { Description = "How many entries, newest first", DefaultValueFactory = _ => 50 };
        var history = new Command("history", "An account's ledger, newest first: grants, each settled item's charge and release, refunds of reported bounces") { account, limit };
        history.SetAction((result, cancellationToken) => RunAsync(services, async accounts =>
        {
            var checkedLimit = CheckedLimit(result.GetValue(limit));
            var accountId = await accounts.FindIdAsync(result.GetValue(account)!, cancellationToken);
            var entries = await services.GetRequiredService<CreditLedger>().HistoryAsync(accountId, checkedLimit, cancellationToken);
            var table = new Table().AddColumns("time (UTC)", "kind", "amount", "released", "request id", "item");
            foreach (var entry in entries)
            {
                table.AddRow(entry.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), entry.Kind,
                    entry.Kind == CreditLedger.Grant ? $"+{entry.Granted}" : entry.Kind == CreditLedger.Refund ? $"+{entry.Refunded}" : entry.Charged == 0 ? "0" : $"-{entry.Charged}",
                    entry.Released == 0 ? "" : $"{entry.Released}", entry.RequestId ?? "", entry.Item is { } item ? $"{item}" : "");
            }

            WriteTable(table);
            Console.WriteLine(entries.Count == 0 ? "No entries." : $"{entries.Count} entries, newest first.");
        }, cancellationToken));
        return new Command("credits", "Credits") { grant, history };
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
            var report = await services.GetRequiredService<DirectoryImporter>().ImportAsync(reader, path.Name, cancellationToken);
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

    internal static void WriteTable(Table table)
    {
        if (Console.IsOutputRedirected)
        {
            // No terminal to measure: Spectre would assume 80 columns and fold ids and key prefixes across lines.
            AnsiConsole.Profile.Width = 4096;
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Migrates first (the server may never have run), then reports mistakes plainly with exit code 1.</summary>
    internal static Task<int> RunAsync(IServiceProvider services, Func<AccountStore, Task> action, CancellationToken cancellationToken) =>
        ReportingMistakesAsync(async () =>
        {
            await services.PrepareDatabaseAsync(bootstrap: false, cancellationToken);
            await action(services.GetRequiredService<AccountStore>());
            return 0;
        });

    /// <summary>A command's work, its mistakes (bad input, a bad setting, a file that cannot be read) reported as "error: …" with exit code 1.</summary>
    internal static async Task<int> ReportingMistakesAsync(Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception exception) when (exception is AdminInputException or DirectoryImportException or IOException or UnauthorizedAccessException
            or OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"error: {exception.Message}");
            return 1;
        }
    }
}
