namespace PeopleEnrich.Accounts;

public sealed class BootstrapOptions
{
    /// <summary>The key of the 'default' account created on first start; generated and printed when unset.</summary>
    public string? ApiKey { get; set; }

    public long Credits { get; set; } = 1000;
}

public static class AccountsSetup
{
    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<BootstrapOptions>(configuration.GetSection("Bootstrap"));
        services.AddSingleton<AccountStore>();
        return services;
    }

    /// <summary>
    /// First start: with no account at all, create 'default' so that a newcomer can call the API at
    /// once. A generated key is printed once on the console (never to the log).
    /// </summary>
    public static async Task BootstrapAsync(this AccountStore accounts, BootstrapOptions options, TextWriter console, CancellationToken cancellationToken)
    {
        if (await accounts.AnyAsync(cancellationToken))
        {
            if (!string.IsNullOrEmpty(options.ApiKey))
            {
                // Silently ignoring it left newcomers with a key that answers 401; the key itself is never printed.
                await console.WriteLineAsync(
                    "Bootstrap:ApiKey is set but was not used: accounts already exist in this database (it is used only on the first start). " +
                    "It works only if it was this database's first key; 'accounts list' shows the accounts and 'keys create --account <id|name>' makes a new key.");
            }

            return;
        }

        CreatedAccount created;
        try
        {
            created = await accounts.CreateAccountAsync("default", options.Credits, string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey, cancellationToken);
        }
        catch (Exception exception) when (exception is AdminInputException or System.Data.Common.DbException)
        {
            if (await accounts.AnyAsync(cancellationToken))
            {
                return; // another process sharing the database bootstrapped first
            }

            throw;
        }

        if (string.IsNullOrEmpty(options.ApiKey))
        {
            await console.WriteLineAsync($"""

                Created account 'default' ({created.AccountId}) with {options.Credits} credits.
                Its API key, shown only this once:

                    {created.ApiKey}

                """);
        }
    }
}
