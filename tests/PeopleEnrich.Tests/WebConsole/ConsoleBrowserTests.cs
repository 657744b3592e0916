extern alias SimulatedWorld;

using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.Playwright;
using PeopleEnrich.Spreadsheets;
using PeopleEnrich.Tests.Client;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;

namespace PeopleEnrich.Tests.WebConsole;

/// <summary>
/// The web console in a real browser (chromium through Playwright) against the real server and the simulated mail
/// world: a 20-row file whose headers need two columns chosen by hand, started, followed, read and downloaded.
/// </summary>
public sealed class ConsoleBrowserTests
{
    private static readonly string[] AcmeMailboxes =
        ["jane.doe", "john.smith", "maria.garcia", "wei.chen", "olga.ivanova", "tom.baker", "sara.khan", "luis.mora", "kim.lee"];

    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = AcmeMailboxes },
            new DomainDescription { Name = "catchall.test", Mx = [new MxDescription { Host = "mx.catchall.test" }], Behaviour = Behaviour.CatchAll },
            new DomainDescription { Name = "nomail.test", NullMx = true },
        ],
    };

    /// <summary>"Given" and "Web" are no spelling the console recognises: the person chooses those two columns.</summary>
    private static readonly string Leads = string.Join("\r\n",
    [
        "Given,Family name,Employer,Web,Notes",
        .. AcmeMailboxes.Select((mailbox, i) =>
            $"{Title(mailbox.Split('.')[0])},{Title(mailbox.Split('.')[1])},Acme,{(i % 2 == 0 ? "https://www.acme.test/" : "acme.test")},\"acme, row {i}\""),
        "Nobody,Here,Acme,acme.test,not a mailbox",
        "Ada,King,Catchall Inc,catchall.test,",
        "Ben,Ford,Catchall Inc,catchall.test,",
        "Cy,Young,Catchall Inc,catchall.test,",
        "Dee,Snow,Catchall Inc,catchall.test,",
        "Eve,Long,Catchall Inc,catchall.test,",
        "Fay,Wray,No Mail Ltd,nomail.test,",
        "Gus,Hale,No Mail Ltd,nomail.test,",
        "Hal,Ives,No Mail Ltd,nomail.test,",
        "Ian,,Someone,acme.test,no surname",
        "Joy,Kent,Somewhere,localhost,a bad domain",
    ]) + "\r\n";

    [Fact]
    public async Task A_20_row_file_is_mapped_started_followed_read_with_badges_and_evidence_and_downloaded_enriched()
    {
        await using var world = await WorldApp.StartAsync("sqlite", World);
        var account = await world.App.CreateAccountAsync(credits: 1000);
        using var folder = new WorkFolder();
        folder.Write("leads.csv", Leads);
        var input = folder.File("leads.csv");
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Context.NewPageAsync();
        var shots = new Screenshots("console");

        await page.GotoAsync(account.Http.BaseAddress!.ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "1. Your API key" })).ToBeVisibleAsync();
        await shots.TakeAsync(page, "key");

        // The key: kept in the tab's session storage only.
        await page.GetByLabel("API key", Exactly).FillAsync(account.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
        await Expect(page.Locator("#credits")).ToHaveTextAsync("Credits left: 1,000 of 1,000");
        Assert.Equal(account.ApiKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('peopleenrich.key')"));
        Assert.Empty(await chromium.Context.CookiesAsync());
        Assert.DoesNotContain(account.ApiKey, page.Url, StringComparison.Ordinal);

        // The file: two required columns are not recognised, so nothing can start yet.
        await page.GetByLabel("Choose a CSV file", Exactly).SetInputFilesAsync(input);
        await Expect(page.Locator("#file-summary")).ToContainTextAsync("leads.csv: 20 rows, comma-separated.");
        await Expect(page.GetByLabel("Last name (required)", Exactly)).ToHaveValueAsync("1");
        await Expect(page.GetByLabel("First name (required)", Exactly)).ToHaveValueAsync("");
        await Expect(page.GetByLabel("Company domain or website (required)", Exactly)).ToHaveValueAsync("");
        await Expect(page.Locator("#start")).ToBeDisabledAsync();
        await shots.TakeAsync(page, "preview-unmapped");

        await page.GetByLabel("First name (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Given" });
        await Expect(page.Locator("#file-summary")).ToContainTextAsync("0 can be sent"); // no domain yet
        await page.GetByLabel("Company domain or website (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Web" });
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 198 credits for 18 rows");
        await page.GetByLabel("Phones (10 credits)", Exactly).UncheckAsync();
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 18 credits for 18 rows");
        await Expect(page.Locator("#skipped-summary")).ToHaveTextAsync("2 rows cannot be sent (why)");
        await page.Locator("#skipped-summary").ClickAsync();
        await Expect(page.Locator("#skipped-list li")).ToHaveTextAsync(
            ["Row 20: no last name", "Row 21: 'localhost' is not a company domain (such as acme.com)"]);
        await Expect(page.Locator("#start")).ToBeEnabledAsync();
        await shots.TakeAsync(page, "mapped");

        await page.Locator("#start").ClickAsync();
        await Expect(page.Locator("#progress-section")).ToBeVisibleAsync();
        await shots.TakeAsync(page, "started");
        await Expect(page.Locator("#progress-text")).ToContainTextAsync("18 of 18 rows done (100%), 2 skipped. Finished.", new() { Timeout = 120_000 });
        await Expect(page.Locator("#progress")).ToHaveAttributeAsync("max", "18");

        // The table: every row of the file, each email's status a badge, and why we believe each address.
        var rows = page.Locator("#results tbody tr");
        await Expect(rows).ToHaveCountAsync(20);
        await Expect(page.Locator("#pager")).ToBeHiddenAsync(); // one page holds them all
        for (var i = 0; i < AcmeMailboxes.Length; i++)
        {
            var row = page.Locator($"#results tr[data-row='{i + 2}']");
            await Expect(row.Locator("td[data-label='Email'] > .email")).ToHaveTextAsync($"{AcmeMailboxes[i]}@acme.test");
            await Expect(row.Locator("td[data-label='Email'] > .badge")).ToHaveTextAsync("DELIVERABLE");
            await Expect(row.Locator("td[data-label='Status'] .badge")).ToHaveTextAsync("COMPLETED");
        }

        for (var row = 12; row <= 16; row++)
        {
            await Expect(page.Locator($"#results tr[data-row='{row}'] td[data-label='Email'] > .badge")).ToHaveTextAsync("CATCH_ALL");
        }

        await Expect(page.Locator("#results tr[data-row='20'] td[data-label='Status']")).ToContainTextAsync("SKIPPEDno last name");
        var jane = page.Locator("#results tr[data-row='2'] td[data-label='Email']");
        await jane.GetByText("Why we believe it").ClickAsync();
        await Expect(jane.Locator("details li li")).ToContainTextAsync("Mail server mx.acme.test answered “250");
        var ada = page.Locator("#results tr[data-row='12'] td[data-label='Email']");
        await ada.GetByText("Why we believe it").ClickAsync();
        await Expect(ada.Locator("details li li").First).ToContainTextAsync("the domain accepts any address");
        await shots.TakeAsync(page, "results");

        // The download: every input row in order, input columns unchanged, then the command line's columns.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download the enriched CSV" }).ClickAsync());
        Assert.Equal("leads.enriched.csv", download.SuggestedFilename);
        var saved = folder.File("downloaded.csv");
        await download.SaveAsAsync(saved);
        var original = ReadCsv(input);
        var enriched = ReadCsv(saved);
        Assert.Equal([.. original[0], .. EnrichedColumns.Names], enriched[0]);
        Assert.Equal(original.Count, enriched.Count);
        for (var i = 1; i < original.Count; i++)
        {
            Assert.Equal(original[i], enriched[i][..original[0].Length]);
        }

        string[] Added(int dataRow) => enriched[dataRow][original[0].Length..];
        Assert.Equal(["jane.doe@acme.test", "DELIVERABLE", "jane.doe@acme.test:DELIVERABLE", "", "", "", "COMPLETED", ""], Added(1));
        Assert.Equal("CATCH_ALL", Added(11)[1]);
        Assert.Equal(["", "", "", "", "", "", "SKIPPED", "no last name"], Added(19));
        Assert.Equal("SKIPPED", Added(20)[6]);

        // Credits shown are the account's after the run, and the recent requests list this upload's request, done.
        var (_, total, remaining) = await account.CreditsAsync();
        await Expect(page.Locator("#credits")).ToHaveTextAsync($"Credits left: {remaining:N0} of {total:N0}");
        var newest = (await account.Http.GetFromJsonAsync<JsonNode>("/api/v2/people/enrich?limit=1"))!["requests"]![0]!;
        var listed = page.Locator($"#requests tr[data-request='{newest["request_id"]!.GetValue<string>()}']");
        await Expect(listed).ToContainTextAsync("COMPLETED");
        await Expect(listed).ToContainTextAsync("18/18");
        await page.Locator("#requests-section").ScrollIntoViewIfNeededAsync();
        await shots.TakeAsync(page, "requests");

        // A phone-sized screen: nothing wider than the screen, rows as cards.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than a phone's screen");
        await Expect(page.Locator("#results thead")).Not.ToBeInViewportAsync();
        Assert.True((await page.GetByLabel("API key", Exactly).BoundingBoxAsync())!.Height < 60, "the key's field is taller than a line");
        await shots.TakeAsync(page, "phone");
    }

    [Fact]
    public async Task Every_control_has_a_label_and_the_key_and_a_dropped_file_work_from_the_keyboard()
    {
        await using var world = await WorldApp.StartAsync("sqlite", World);
        var account = await world.App.CreateAccountAsync(credits: 5);
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Context.NewPageAsync();
        var shots = new Screenshots("keyboard");
        await page.GotoAsync(account.Http.BaseAddress!.ToString());

        // Tab from the top reaches the key (after the skip link); Enter submits it.
        for (var i = 0; i < 5 && await page.EvaluateAsync<string>("() => document.activeElement.id") != "api-key"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("api-key", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await page.Keyboard.TypeAsync(account.ApiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#credits")).ToHaveTextAsync("Credits left: 5 of 5");

        // A file dropped on the drop zone is read like a chosen one.
        await page.Locator("#drop").EvaluateAsync("""
            (zone, text) => {
              const transfer = new DataTransfer();
              transfer.items.add(new File([text], "dropped.csv", { type: "text/csv" }));
              zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
            """, Leads);
        await Expect(page.Locator("#file-summary")).ToContainTextAsync("dropped.csv: 20 rows");
        await page.GetByLabel("First name (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Given" });
        await page.GetByLabel("Company domain or website (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Web" });

        // More than the account has: said before anything is sent, and Start stays off.
        await Expect(page.Locator("#cost")).ToContainTextAsync("Not enough credits for this file.");
        await Expect(page.Locator("#start")).ToBeDisabledAsync();

        foreach (var label in new[] { "API key", "Choose a CSV file", "First name (required)", "Last name (required)",
                     "Company domain or website (required)", "Company name", "LinkedIn profile", "Emails (1 credit)", "Phones (10 credits)" })
        {
            await Expect(page.GetByLabel(label, Exactly)).ToHaveCountAsync(1);
        }

        var unnamed = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll("input, select, button, progress, textarea")]
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
              .map(e => e.id || e.outerHTML)
            """);
        Assert.Empty(unnamed);
        await page.GetByLabel("Phones (10 credits)", Exactly).FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByLabel("Phones (10 credits)", Exactly)).Not.ToBeCheckedAsync();
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 18 credits for 18 rows (you have 5;");
        await shots.TakeAsync(page, "labels");
    }

    [Fact]
    public async Task An_answer_to_an_earlier_mapping_that_comes_back_late_does_not_replace_the_latest_and_start_waits_for_the_latest()
    {
        await using var console = await ConsoleWithLeads.OpenAsync();
        var page = console.Page;

        // The preview of the mapping with a first name but no domain yet is answered only after the next one was: what a
        // busy server or network does to two quick choices.
        var later = new TaskCompletionSource();
        await page.RouteAsync("**/api/v2/people/csv/preview?**", async route =>
        {
            var domainChosen = !route.Request.Url.Contains("domain=&", StringComparison.Ordinal) && !route.Request.Url.EndsWith("domain=", StringComparison.Ordinal);
            if (domainChosen)
            {
                await route.ContinueAsync();
                later.TrySetResult();
            }
            else
            {
                await later.Task.WaitAsync(TimeSpan.FromSeconds(30));
                await Task.Delay(500);
                await route.ContinueAsync();
            }
        });
        await page.GetByLabel("First name (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Given" });
        await page.GetByLabel("Company domain or website (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Web" });
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 198 credits for 18 rows");

        // Both answers are in; the page still shows the mapping last chosen.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 198 credits for 18 rows");
        await Expect(page.GetByLabel("Company domain or website (required)", Exactly)).Not.ToHaveValueAsync("");
        await Expect(page.Locator("#start")).ToBeEnabledAsync();

        // While the answer to a new choice is on its way, the cost shown is the old one's: Start waits for the answer.
        await page.UnrouteAllAsync();
        var release = new TaskCompletionSource();
        await page.RouteAsync("**/api/v2/people/csv/preview?**", async route =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await route.ContinueAsync();
        });
        await page.GetByLabel("Phones (10 credits)", Exactly).UncheckAsync();
        await Expect(page.Locator("#start")).ToBeDisabledAsync();
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 198 credits for 18 rows");
        release.SetResult();
        await Expect(page.Locator("#cost")).ToContainTextAsync("At most 18 credits for 18 rows");
        await Expect(page.Locator("#start")).ToBeEnabledAsync();
    }

    [Fact]
    public async Task A_preview_still_on_its_way_when_no_field_is_left_ticked_does_not_enable_start()
    {
        await using var console = await ConsoleWithLeads.OpenAsync();
        var page = console.Page;
        await page.GetByLabel("First name (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Given" });
        await page.GetByLabel("Company domain or website (required)", Exactly).SelectOptionAsync(new SelectOptionValue { Label = "Web" });
        await Expect(page.Locator("#start")).ToBeEnabledAsync();

        // Emails unticked asks a preview of phones only, whose answer comes only after phones were unticked too.
        var untickedBoth = new TaskCompletionSource();
        var phonesOnlyAnswered = new TaskCompletionSource();
        await page.RouteAsync("**/api/v2/people/csv/preview?**", async route =>
        {
            if (new Uri(route.Request.Url).Query.Contains("fields=phones", StringComparison.Ordinal))
            {
                await untickedBoth.Task.WaitAsync(TimeSpan.FromSeconds(30));
                await route.ContinueAsync();
                phonesOnlyAnswered.TrySetResult();
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        await page.Locator("#want-emails").UncheckAsync();
        await page.Locator("#want-phones").UncheckAsync();
        await Expect(page.Locator("#upload-message")).ToHaveTextAsync("Tick emails, phones or both.");
        await Expect(page.Locator("#start")).ToBeDisabledAsync();
        untickedBoth.TrySetResult();
        await phonesOnlyAnswered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The late answer was to a question no longer asked: nothing is ticked, so nothing can start.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.Locator("#upload-message")).ToHaveTextAsync("Tick emails, phones or both.");
        await Expect(page.Locator("#start")).ToBeDisabledAsync();
    }

    /// <summary>The console in a browser, its key given and the 20-row leads file chosen (its preview shown), for the tests of one step.</summary>
    private sealed class ConsoleWithLeads(WorldApp world, WorkFolder folder, Chromium chromium, IPage page) : IAsyncDisposable
    {
        public IPage Page => page;

        public static async Task<ConsoleWithLeads> OpenAsync()
        {
            var world = await WorldApp.StartAsync("sqlite", World);
            var account = await world.App.CreateAccountAsync(credits: 1000);
            var folder = new WorkFolder();
            folder.Write("leads.csv", Leads);
            var chromium = await Chromium.LaunchAsync();
            var page = await chromium.Context.NewPageAsync();
            var console = new ConsoleWithLeads(world, folder, chromium, page);
            await page.GotoAsync(account.Http.BaseAddress!.ToString());
            await page.GetByLabel("API key", Exactly).FillAsync(account.ApiKey);
            await page.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
            await Expect(page.Locator("#credits")).ToHaveTextAsync("Credits left: 1,000 of 1,000");
            await page.GetByLabel("Choose a CSV file", Exactly).SetInputFilesAsync(folder.File("leads.csv"));
            await Expect(page.Locator("#file-summary")).ToContainTextAsync("leads.csv: 20 rows");
            return console;
        }

        public async ValueTask DisposeAsync()
        {
            await chromium.DisposeAsync();
            folder.Dispose();
            await world.DisposeAsync();
        }
    }

    /// <summary>A label's whole text: "API key" is also in the heading "1. Your API key", which names its section.</summary>
    private static readonly PageGetByLabelOptions Exactly = new() { Exact = true };

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static string Title(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    private static List<string[]> ReadCsv(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false });
        var records = new List<string[]>();
        while (parser.Read())
        {
            records.Add(parser.Record!);
        }

        return records;
    }
}
