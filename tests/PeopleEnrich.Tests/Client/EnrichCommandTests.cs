using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Client;

/// <summary>
/// 'enrich INPUT.csv' as a user runs it: the built program as a child process, in a folder of the
/// user's, against the server in another process over real HTTP. Every answer is known in advance
/// (the server's directory), so the enriched file is checked cell by cell.
/// </summary>
public sealed class EnrichCommandTests(EnrichServerFixture fixture) : IClassFixture<EnrichServerFixture>
{
    private static readonly string[] Added = ["email", "email_status", "emails", "phone", "phone_region", "phones", "enrich_status", "enrich_error"];

    private EnrichServer Server => fixture.Server;

    [Fact]
    public async Task A_French_semicolon_file_with_a_BOM_and_line_breaks_in_quotes_comes_back_whole_with_the_answers_added()
    {
        using var folder = new WorkFolder();
        var (accountId, key) = await Server.CreateAccountAsync();
        var grace = EnrichServer.Known[0];
        var jean = EnrichServer.Known[1];
        const string Input = """"
            Notes;Prénom;NOM;Société;Site web
            "Met at the fair;
            call back ""soon""";Grace;Hopper;US Navy;https://www.Navy-Example.org/contact
            ;Jean;Dupont;Exemple SA;exemple-societe.fr
            no surname;Ada;;Analytical;ada-example.org
            unknown person;Alan;Turing;Bletchley;bletchley-example.org
            bad domain;Kurt;Gödel;;localhost
            """";
        folder.Write("leads.csv", Input.ReplaceLineEndings("\r\n"), byteOrderMark: true);

        // A relative path, from the user's folder: the output lands beside the input.
        var run = (await RunAsync(folder, "enrich", "leads.csv", "--server", Server.Url.ToString(), "--key", key)).AssertSucceeded();

        Assert.Contains(run.OutputLines, l => l == "  first name  <- \"Prénom\"");
        Assert.Contains(run.OutputLines, l => l == "  domain      <- \"Site web\"");
        Assert.Equal(Encoding.UTF8.Preamble.ToArray(), File.ReadAllBytes(folder.File("leads.enriched.csv"))[..3]);
        var input = folder.Read("leads.csv", ";");
        var output = folder.Read("leads.enriched.csv", ";");
        Assert.Equal([.. input.Header, .. Added], output.Header);
        Assert.Equal(input.Rows.Count, output.Rows.Count);
        for (var i = 0; i < input.Rows.Count; i++)
        {
            Assert.Equal(input.Rows[i], output.Rows[i][..input.Header.Count]);
        }

        Assert.Equal("Met at the fair;\r\ncall back \"soon\"", output.Rows[0][0]);
        AssertFound(output, 0, grace);
        AssertFound(output, 1, jean);
        AssertSkipped(output, 2, "no last name");
        Assert.Equal(["", "", "", "", "", "", "COMPLETED", ""], Answer(output, 3));
        AssertSkipped(output, 4, "'localhost' is not a company domain (such as acme.com)");

        // Two phones found, at 10 credits each; the directory's addresses are UNKNOWN, which is free.
        Assert.Equal((20L, 0L, 1L), await Server.StoredAsync(accountId));
        Assert.Contains(run.OutputLines, l => l.Contains("credits used by this run", StringComparison.Ordinal) && l.Contains(" 20 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task German_tab_separated_headers_in_any_case_asking_for_emails_only_with_the_key_from_the_environment()
    {
        using var folder = new WorkFolder();
        var (accountId, key) = await Server.CreateAccountAsync();
        var hans = EnrichServer.Known[2];
        folder.Write("kontakte.tsv", $"VORNAME\tnachname\tFirma\tWebseite\tlinkedin_url\n{hans.FirstName}\t{hans.LastName}\tBeispiel GmbH\t{hans.Domain}\thttps://www.linkedin.com/in/hans\n");
        Directory.CreateDirectory(folder.File("out"));

        var run = (await RunAsync(folder, new Dictionary<string, string?> { ["PEOPLEENRICH_API_KEY"] = key },
            "enrich", "kontakte.tsv", "-o", "out/ergebnis.csv", "--fields", "emails", "--server", Server.Url.ToString())).AssertSucceeded();

        Assert.Contains(run.OutputLines, l => l == "  LinkedIn    <- \"linkedin_url\"");
        Assert.Contains(run.OutputLines, l => l == "1 row to send asking for emails; 0 rows cannot be sent.");
        var output = folder.Read("out/ergebnis.csv", "\t");
        Assert.Equal(["VORNAME", "nachname", "Firma", "Webseite", "linkedin_url", .. Added], output.Header);
        Assert.Equal([hans.Email, "UNKNOWN", $"{hans.Email}:UNKNOWN", "", "", "", "COMPLETED", ""], Answer(output, 0));
        Assert.False(File.Exists(folder.File("kontakte.enriched.csv")));
        Assert.Equal((0L, 0L, 1L), await Server.StoredAsync(accountId));
    }

    [Fact]
    public async Task A_dry_run_shows_the_mapping_the_rows_that_cannot_be_sent_and_the_most_it_can_cost_and_sends_nothing()
    {
        using var folder = new WorkFolder();
        var (accountId, key) = await Server.CreateAccountAsync();
        folder.Write("leads.csv", """
            First Name,Last Name,Company Name,Website,Email
            Grace,Hopper,Navy,navy-example.org,
            Ada,,Analytical,ada-example.org,
            Alan,Turing,Bletchley,,
            Jean,Dupont,,exemple-societe.fr,
            """);

        var run = (await RunAsync(folder, "enrich", "leads.csv", "--dry-run", "--server", Server.Url.ToString(), "--key", key)).AssertSucceeded();

        Assert.Equal(
        [
            $"{folder.File("leads.csv")}: 4 rows, comma-separated, UTF-8.",
            "Columns:",
            "  first name  <- \"First Name\"",
            "  last name   <- \"Last Name\"",
            "  domain      <- \"Website\"",
            "  company     <- \"Company Name\"",
            "  LinkedIn    <- (none)",
            "  not used (copied as they are): \"Email\"",
            "2 rows to send asking for emails and phones; 2 rows cannot be sent.",
            "At most 22 credits (11 per row: 1 for emails, 10 for phones, charged only when found).",
            "Rows that cannot be sent:",
            "  row 3: no last name",
            "  row 4: no domain",
            "Dry run: nothing was sent.",
        ], run.OutputLines);
        Assert.False(File.Exists(folder.File("leads.enriched.csv")));
        Assert.Equal((0L, 0L, 0L), await Server.StoredAsync(accountId));
    }

    [Fact]
    public async Task A_file_without_name_or_domain_columns_is_refused_naming_the_headers_it_has()
    {
        using var folder = new WorkFolder();
        folder.Write("contacts.csv", "Name;E-mail;Phone\nGrace Hopper;grace@navy-example.org;+12025550143\n");

        var error = (await RunAsync(folder, "enrich", "contacts.csv", "--dry-run")).AssertFailedWithError();

        Assert.Equal($"{folder.File("contacts.csv")} has no column for first name, last name, domain; headers seen: \"Name\", \"E-mail\", \"Phone\" (the README lists the headers recognised)", error);
    }

    [Fact]
    public async Task A_missing_file_a_bad_key_and_an_unreachable_server_are_each_one_line_and_a_non_zero_exit()
    {
        using var folder = new WorkFolder();
        folder.Write("leads.csv", "firstname,lastname,domain\nGrace,Hopper,navy-example.org\n");

        var missing = (await RunAsync(folder, "enrich", "nowhere.csv", "--key", "pe_whatever")).AssertFailedWithError();
        Assert.Equal($"no file at {folder.File("nowhere.csv")}", missing);

        var badKey = (await RunAsync(folder, "enrich", "leads.csv", "--server", Server.Url.ToString(), "--key", "pe_not_a_key_0123456789")).AssertFailedWithError();
        Assert.Equal($"the server at {Server.Url} refused the API key (401): check --key or PEOPLEENRICH_API_KEY", badKey);

        var closed = ClosedLoopbackPort();
        var unreachable = (await RunAsync(folder, "enrich", "leads.csv", "--server", $"http://127.0.0.1:{closed}", "--key", "pe_whatever")).AssertFailedWithError();
        Assert.StartsWith($"cannot reach the server at http://127.0.0.1:{closed}/: ", unreachable);

        var noKey = (await RunAsync(folder, new Dictionary<string, string?> { [PeopleEnrich.Client.EnrichCommand.KeyVariable] = null }, "enrich", "leads.csv", "--server", Server.Url.ToString())).AssertFailedWithError();
        Assert.Equal("no API key: pass --key KEY or set PEOPLEENRICH_API_KEY", noKey);
        Assert.False(File.Exists(folder.File("leads.enriched.csv")));
    }

    [Fact]
    public async Task A_row_the_server_refuses_is_skipped_with_the_servers_reason_and_the_rest_of_its_batch_is_sent()
    {
        using var folder = new WorkFolder();
        var (accountId, key) = await Server.CreateAccountAsync();
        var grace = EnrichServer.Known[0];
        // "acme.123" passes the client's own check; the server refuses a numeric top-level label (422 at body.requests[0].domain).
        folder.Write("leads.csv", $"firstname,lastname,domain\nAda,Lovelace,acme.123\n{grace.FirstName},{grace.LastName},{grace.Domain}\n");

        (await RunAsync(folder, "enrich", "leads.csv", "--server", Server.Url.ToString(), "--key", key)).AssertSucceeded();

        var output = folder.Read("leads.enriched.csv", ",");
        AssertSkipped(output, 0, "refused by the server: domain not a company domain: the value is not a valid host name");
        AssertFound(output, 1, grace);
        Assert.Equal((10L, 0L, 1L), await Server.StoredAsync(accountId));
    }

    [Fact]
    public async Task A_run_killed_after_its_first_batch_then_run_again_is_charged_once_and_writes_every_row()
    {
        using var folder = new WorkFolder();
        var (accountId, key) = await Server.CreateAccountAsync();
        folder.Write("bulk.csv", BulkCsv());
        string[] Args(Uri server) => ["enrich", "bulk.csv", "--server", server.ToString(), "--key", key, "--parallel", "1"];

        // The first run talks through a proxy that holds its second batch, so it is killed with exactly one batch sent
        // (one at a time: the second is submitted only once the first is done), however fast it runs.
        await using (var proxy = await BatchHoldingProxy.StartAsync(Server.Url))
        await using (var first = AppProcess.Start(BuiltApp.InThisSolution, Args(proxy.Address), NoKeyVariable, folder.Path))
        {
            await first.WaitForLineAsync("Chunk 1/3 done");
            await proxy.SecondBatchHeld.WaitAsync(AppProcess.DefaultTimeout, TestContext.Current.CancellationToken);
            first.Kill();
            await first.WaitForExitAsync();
        }

        Assert.False(File.Exists(folder.File("bulk.enriched.csv")));
        Assert.Equal((1000L, 0L, 1L), await Server.StoredAsync(accountId));

        (await RunAsync(folder, Args(Server.Url))).AssertSucceeded();

        // Three batches of 100, 100 and 50 in all: the batches the first run sent were found again by their Idempotency-Key.
        Assert.Equal((EnrichServer.BulkCount * 10L, 0L, 3L), await Server.StoredAsync(accountId));
        AssertBulkOutput(folder);
    }

    [Fact]
    public async Task Batches_the_account_cannot_cover_are_left_unsent_and_a_run_after_a_grant_sends_only_those()
    {
        using var folder = new WorkFolder();
        // Enough for the first batch's reservation (100 phones at 10), not for the second's once it is charged.
        var (accountId, key) = await Server.CreateAccountAsync(credits: 1500);
        folder.Write("bulk.csv", BulkCsv());
        string[] args = ["enrich", "bulk.csv", "--server", Server.Url.ToString(), "--key", key, "--fields", "phones", "--parallel", "1"];

        var short1 = await RunAsync(folder, args);

        Assert.True(short1.ExitCode == 1, short1.ToString());
        Assert.Equal("error: not enough credits: 150 rows not sent; add credits and run the same command again (nothing is charged twice)", Assert.Single(short1.ErrorLines));
        Assert.Contains("Warning: 1500 credits left and these rows can reserve up to 2500: batches the account cannot cover are left unsent.", short1.OutputLines);
        var partial = folder.Read("bulk.enriched.csv", ",");
        Assert.Equal(EnrichServer.BulkCount, partial.Rows.Count);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal("COMPLETED", partial.Value(i, "enrich_status")));
        Assert.All(Enumerable.Range(100, 150), i => Assert.Equal(["SKIPPED", "not sent: not enough credits left on the account"], Answer(partial, i)[^2..]));
        Assert.Equal((1000L, 0L, 1L), await Server.StoredAsync(accountId));

        (await ProgramRunner.RunAsync(Server.Database, "credits", "grant", "--account", accountId, "--amount", "1000")).AssertSucceeded();
        (await RunAsync(folder, args)).AssertSucceeded();

        Assert.Equal((2500L, 0L, 3L), await Server.StoredAsync(accountId));
        var output = folder.Read("bulk.enriched.csv", ",");
        Assert.All(Enumerable.Range(0, EnrichServer.BulkCount), i =>
        {
            var person = EnrichServer.Bulk(i);
            Assert.Equal(["", "", "", person.Phone, person.Region, person.Phone, "COMPLETED", ""], Answer(output, i));
        });
    }

    [Fact]
    public async Task A_low_rate_limit_is_waited_out_as_Retry_After_says_and_every_batch_is_sent_once()
    {
        await using var limited = await EnrichServer.StartAsync(permitsPerSecond: 1);
        using var folder = new WorkFolder();
        var (accountId, key) = await limited.CreateAccountAsync();
        folder.Write("bulk.csv", BulkCsv());

        var run = (await RunAsync(folder, "enrich", "bulk.csv", "--server", limited.Url.ToString(), "--key", key, "--parallel", "3")).AssertSucceeded();

        Assert.Contains(run.OutputLines, l => l.StartsWith("Rate limited by the server (429): waiting 1 s", StringComparison.Ordinal));
        Assert.Equal((EnrichServer.BulkCount * 10L, 0L, 3L), await limited.StoredAsync(accountId));
        AssertBulkOutput(folder);
    }

    private static IReadOnlyDictionary<string, string?> NoKeyVariable { get; } = new Dictionary<string, string?> { [PeopleEnrich.Client.EnrichCommand.KeyVariable] = null };

    private static Task<ProgramResult> RunAsync(WorkFolder folder, params string[] args) => RunAsync(folder, NoKeyVariable, args);

    private static Task<ProgramResult> RunAsync(WorkFolder folder, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        ProgramRunner.RunAsync(args, environment, folder.Path, TimeSpan.FromMinutes(3));

    private static string BulkCsv()
    {
        var csv = new StringBuilder("first_name,last_name,company_domain,row_id\n");
        for (var i = 0; i < EnrichServer.BulkCount; i++)
        {
            var person = EnrichServer.Bulk(i);
            csv.Append(CultureInfo.InvariantCulture, $"{person.FirstName},{person.LastName},{person.Domain},id-{i}\n");
        }

        return csv.ToString();
    }

    private static void AssertBulkOutput(WorkFolder folder)
    {
        var output = folder.Read("bulk.enriched.csv", ",");
        Assert.Equal(EnrichServer.BulkCount, output.Rows.Count);
        for (var i = 0; i < EnrichServer.BulkCount; i++)
        {
            Assert.Equal($"id-{i}", output.Rows[i][3]);
            AssertFound(output, i, EnrichServer.Bulk(i));
        }
    }

    private static void AssertFound(CsvTable output, int row, KnownPerson person) =>
        Assert.Equal([person.Email, "UNKNOWN", $"{person.Email}:UNKNOWN", person.Phone, person.Region, person.Phone, "COMPLETED", ""], Answer(output, row));

    private static void AssertSkipped(CsvTable output, int row, string reason) =>
        Assert.Equal(["", "", "", "", "", "", "SKIPPED", reason], Answer(output, row));

    private static string[] Answer(CsvTable output, int row) => output.Rows[row][^Added.Length..];

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
