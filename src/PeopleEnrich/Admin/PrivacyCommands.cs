using System.CommandLine;
using System.Globalization;
using PeopleEnrich.Accounts;
using PeopleEnrich.Credits;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Cache;
using PeopleEnrich.Pipeline.Queue;
using PeopleEnrich.Pipeline.Uploads;
using PeopleEnrich.Privacy;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Sources.Website;
using Spectre.Console;

namespace PeopleEnrich.Admin;

/// <summary>
/// How an operator answers an opt-out (<c>suppressions add</c>) or an erasure request (<c>people erase</c>): both
/// take effect at the next item, also while the server runs.
/// </summary>
public static class PrivacyCommands
{
    /// <summary>The stores a person is erased from, in the order they are asked who else the person is known as.</summary>
    public static IServiceCollection AddPersonalData(this IServiceCollection services)
    {
        services.AddPrivacy();
        services.AddSingleton<Erasure>();
        services.AddOptions<ErasureOptions>().BindConfiguration("Privacy");
        services.AddSingleton<ItemQueue>();
        services.AddSingleton<StoredAnswersPersonalData>();
        services.AddSingleton<IUnfinishedWork, UnfinishedItems>();
        services.AddSingleton<IPersonalData, DirectoryPersonalData>();
        // Before the stored answers: it finds an upload's requests by the names those blank.
        services.AddSingleton<IPersonalData, UploadsPersonalData>();
        services.AddSingleton<IPersonalData>(provider => provider.GetRequiredService<StoredAnswersPersonalData>());
        services.AddSingleton<IPersonalData, CachedAnswersPersonalData>();
        services.AddSingleton<IPersonalData, KnownAddressesPersonalData>();
        services.AddSingleton<IPersonalData, ChargedAddressesPersonalData>();
        services.AddSingleton<IPersonalData, WebsitePersonalData>();
        services.AddSingleton<IPersonalData, GreylistingPersonalData>();
        return services;
    }

    public static Command Suppressions(IServiceProvider services)
    {
        var add = Naming(new Command("add", "Never process this person or domain again (crawl, probe, upstreams, directory, cache); their items answer \"suppressed\""), withDomainAlone: true);
        add.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async _ =>
        {
            var added = await services.GetRequiredService<SuppressionList>().AddAsync(Named(result, add), Suppression.OptOut, cancellationToken);
            Console.WriteLine(added == 0 ? "Already suppressed: nothing added." : $"Suppressed ({added} added).");
        }, cancellationToken));

        var remove = Naming(new Command("remove", "Lift a suppression (an erased person's data does not come back; only new lookups may find them)"), withDomainAlone: true);
        remove.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async _ =>
        {
            var removed = await services.GetRequiredService<SuppressionList>().RemoveAsync(Named(result, remove), cancellationToken);
            Console.WriteLine(removed == 0 ? "No such suppression: nothing removed." : $"Removed {removed}.");
        }, cancellationToken));

        var list = new Command("list", "Every suppression, newest first");
        list.SetAction((_, cancellationToken) => AdminCommands.RunAsync(services, async _ =>
        {
            var suppressions = await services.GetRequiredService<SuppressionList>().ListAsync(cancellationToken);
            var table = new Table().AddColumns("since (UTC)", "kind", "who", "why");
            foreach (var suppression in suppressions)
            {
                table.AddRow(suppression.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), suppression.Kind.ToString().ToLowerInvariant(),
                    Markup.Escape(suppression.Describe()), suppression.Reason);
            }

            AdminCommands.WriteTable(table);
            Console.WriteLine(suppressions.Count == 0 ? "No suppressions." : $"{suppressions.Count} suppressions.");
        }, cancellationToken));
        return new Command("suppressions", "Opt-outs: people and domains never to be processed") { add, remove, list };
    }

    public static Command People(IServiceProvider services)
    {
        var erase = Naming(new Command("erase", "Remove a person from the directory, the cache, domain knowledge, website findings and past answers, then suppress them"), withDomainAlone: false);
        erase.SetAction((result, cancellationToken) => AdminCommands.RunAsync(services, async _ =>
        {
            var report = await services.GetRequiredService<Erasure>().EraseAsync(ErasureSubject.Of(Named(result, erase)), cancellationToken);
            var table = new Table().AddColumns("what", "removed");
            foreach (var (what, count) in report)
            {
                table.AddRow(what, count.ToString(CultureInfo.InvariantCulture));
            }

            AdminCommands.WriteTable(table);
        }, cancellationToken));
        return new Command("people", "A person's data") { erase };
    }

    private static Command Naming(Command command, bool withDomainAlone)
    {
        command.Options.Add(new Option<string>("--email") { Description = "Their address" });
        command.Options.Add(new Option<string>("--linkedin") { Description = "Their LinkedIn profile URL" });
        command.Options.Add(new Option<string>("--person") { Description = "\"First Last\", with --domain" });
        command.Options.Add(new Option<string>("--domain") { Description = withDomainAlone ? "A whole domain, or the person's domain with --person" : "The person's domain, with --person" });
        return command;
    }

    /// <summary>The suppression keys the options name; a mistake is a one-line error.</summary>
    private static IReadOnlyList<(SuppressionKind Kind, string Value, string? Domain)> Named(ParseResult result, Command command)
    {
        string? Value(string name) => result.GetValue<string>(name);
        var named = new NamedPerson(Value("--email"), Value("--domain"), Value("--linkedin"), Value("--person"));
        try
        {
            var keys = named.Keys();
            if (command.Name == "erase" && keys.Any(k => k.Kind == SuppressionKind.Domain))
            {
                throw new ArgumentException("people erase takes one person: --email, --linkedin, or --person \"First Last\" with --domain (to stop processing a whole domain, use suppressions add --domain).");
            }

            return keys;
        }
        catch (ArgumentException mistake)
        {
            throw new AdminInputException(mistake.Message);
        }
    }
}
