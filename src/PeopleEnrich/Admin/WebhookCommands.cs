using System.CommandLine;
using System.Globalization;
using PeopleEnrich.Accounts;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Webhooks;
using Spectre.Console;

namespace PeopleEnrich.Admin;

/// <summary>
/// An account's webhooks: its default URL (used when a POST names none), its signing secret, and what was delivered.
/// </summary>
public static class WebhookCommands
{
    public static Command Create(IServiceProvider services)
    {
        var url = new Option<string>("--url") { Description = "Where each completed request of the account is posted, unless its POST names a webhook_url", Required = true };
        var set = new Command("set", "Set an account's default webhook URL (enables it again after a 410)") { Account(), url };
        set.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async accounts =>
        {
            var accountId = await accounts.FindIdAsync(result.GetValue<string>("--account")!, cancellationToken);
            var value = result.GetValue(url)!.Trim();
            if (await services.GetRequiredService<CallbackUrls>().ProblemAsync(value, cancellationToken) is { } problem)
            {
                throw new AdminInputException($"--url {problem}.");
            }

            await services.GetRequiredService<WebhookStore>().SetDefaultAsync(accountId, value, cancellationToken);
            Console.WriteLine($"Completed requests of {accountId} are posted to {value} unless their POST names a webhook_url.");
            Console.WriteLine("Receivers check each call's signature with the account's secret: webhooks secret --account " + accountId);
        }, cancellationToken));

        var clear = new Command("clear", "Remove an account's default webhook URL") { Account() };
        clear.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async accounts =>
        {
            var accountId = await accounts.FindIdAsync(result.GetValue<string>("--account")!, cancellationToken);
            var cleared = await services.GetRequiredService<WebhookStore>().ClearDefaultAsync(accountId, cancellationToken);
            Console.WriteLine(cleared ? $"Removed the default webhook of {accountId}." : $"{accountId} had no default webhook: nothing changed.");
        }, cancellationToken));

        var rotate = new Option<bool>("--rotate") { Description = "Replace the secret: calls, retries included, are signed with the new one and, for Webhooks:RotationOverlap, with the old one too" };
        var secret = new Command("secret", "Print an account's signing secret (whsec_…), creating it on first use") { Account(), rotate };
        secret.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async accounts =>
        {
            var accountId = await accounts.FindIdAsync(result.GetValue<string>("--account")!, cancellationToken);
            Console.WriteLine(await services.GetRequiredService<WebhookStore>().SecretAsync(accountId, result.GetValue(rotate), cancellationToken));
        }, cancellationToken));

        var limit = new Option<int>("--limit") { Description = "How many events, newest first", DefaultValueFactory = _ => 50 };
        var deliveries = new Command("deliveries", "An account's webhook events, newest first: where, how many attempts, the last answer, what is next") { Account(), limit };
        deliveries.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async accounts =>
        {
            var count = result.GetValue(limit) is var n and >= 1 and <= 10_000 ? n : throw new AdminInputException("--limit must be from 1 to 10000.");
            var accountId = await accounts.FindIdAsync(result.GetValue<string>("--account")!, cancellationToken);
            var store = services.GetRequiredService<WebhookStore>();
            var settings = await store.GetAsync(accountId, cancellationToken);
            Console.WriteLine(settings.Url is null ? "Default webhook: none."
                : settings.DisabledAt is { } disabled ? $"Default webhook: {settings.Url}, DISABLED since {Time(disabled)} ({settings.DisabledReason}); 'webhooks set' enables it again."
                : $"Default webhook: {settings.Url}");
            var events = await store.ListAsync(accountId, count, cancellationToken);
            var table = new Table().AddColumns("event (webhook-id)", "request id", "completed (UTC)", "url", "attempts", "last status", "last attempt (UTC)", "next attempt (UTC)", "state");
            foreach (var row in events)
            {
                table.AddRow(row.EventId, row.RequestId, Time(row.CreatedAt), Markup.Escape(row.Url), $"{row.Attempts}", Markup.Escape(row.LastStatus ?? ""),
                    row.LastAttemptAt is { } last ? Time(last) : "", row.NextAttemptAt is { } next ? Time(next) : "", row.State.ToLowerInvariant());
            }

            AdminCommands.WriteTable(table);
            Console.WriteLine(events.Count == 0 ? "No events." : $"{events.Count} events, newest first.");
        }, cancellationToken));
        return new Command("webhooks", "Webhooks: an account's default URL, its signing secret, the deliveries") { set, clear, secret, deliveries };
    }

    private static Option<string> Account() => new("--account") { Description = "The account's id (or name)", Required = true };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
