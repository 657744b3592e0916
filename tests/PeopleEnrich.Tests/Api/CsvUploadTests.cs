using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;
using PeopleEnrich.Spreadsheets;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Api;

/// <summary>
/// The CSV endpoints (extension) over real HTTP: a file read by the command line's own code, split into requests of 100
/// accepted as POSTs are, followed and downloaded enriched with every input row and column.
/// </summary>
public abstract class CsvUploadTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private const string CsvPath = "/api/v2/people/csv";

    private TestApp App => fixture.App;

    [Fact]
    public async Task Preview_says_the_delimiter_the_columns_the_rows_that_cannot_be_sent_and_the_most_it_can_cost()
    {
        var account = await App.CreateAccountAsync(credits: 500);
        const string File = "Prénom;Nom;Société;Site web;Notes\nGrace;Hopper;US Navy;https://www.navy-example.org/;\"met;\nthere\"\nAda;;AE;ada-example.org;\nAlan;Turing;B;localhost;\n";

        var preview = await PreviewAsync(account, Encoding.UTF8.GetBytes(File), "name=leads.csv");

        Assert.Equal("leads.csv", preview["file_name"]!.GetValue<string>());
        Assert.Equal(";", preview["delimiter"]!.GetValue<string>());
        Assert.Equal(3, preview["row_count"]!.GetValue<int>());
        Assert.Equal(["Prénom", "Nom", "Société", "Site web", "Notes"], Strings(preview["headers"]!));
        Assert.Equal("met;\nthere", preview["sample"]![0]![4]!.GetValue<string>());
        var columns = preview["columns"]!;
        Assert.Equal([0], Numbers(columns["first_name"]!));
        Assert.Equal([1], Numbers(columns["last_name"]!));
        Assert.Equal([3], Numbers(columns["domain"]!));
        Assert.Equal([2], Numbers(columns["company"]!));
        Assert.Empty(Numbers(columns["linkedin"]!));
        Assert.Empty(preview["missing_columns"]!.AsArray());
        Assert.Equal(1, preview["sendable_count"]!.GetValue<int>());
        Assert.Equal(
            ["3: no last name", "4: 'localhost' is not a company domain (such as acme.com)"],
            preview["skipped"]!.AsArray().Select(s => $"{s!["row"]}: {s["reason"]}"));
        Assert.Equal(11, preview["max_credits"]!.GetValue<long>());
        Assert.Equal(500, preview["remaining_credits"]!.GetValue<long>());

        // Columns chosen by position replace the recognised ones: without a domain nothing can be sent.
        var chosen = await PreviewAsync(account, Encoding.UTF8.GetBytes(File), "first_name=0&last_name=1&domain=&fields=emails");
        Assert.Equal(["domain"], Strings(chosen["missing_columns"]!));
        Assert.Equal(0, chosen["sendable_count"]!.GetValue<int>());
        Assert.Equal(["contact.emails"], Strings(chosen["enrich_fields"]!));
    }

    [Fact]
    public async Task A_250_row_file_goes_as_three_requests_and_comes_back_whole_in_order_with_the_answers()
    {
        var unique = Bodies.Unique();
        var domain = $"upload{unique}.com";
        var known = new DirectoryRow("Grace", $"Known{unique}", domain, $"grace.{unique}@{domain}", "+12025550143");
        await App.ImportDirectoryAsync([known]);
        var account = await App.CreateAccountAsync(credits: 10_000);
        var file = new StringBuilder("Name,Surname,Website,Note\n");
        file.Append(CultureInfo.InvariantCulture, $"{known.FirstName},{known.LastName},https://www.{domain}/,\"the, known one\"\n");
        for (var i = 1; i < 250; i++)
        {
            file.Append(CultureInfo.InvariantCulture, $"Lead{i},Person{unique},{(i == 7 ? "" : $"lead{unique}.com")},{i}\n");
        }

        // "Name" is no spelling of a first name: the column is chosen by position (from 0).
        using var response = await PostCsvAsync(account, $"{CsvPath}/enrich?name=leads.csv&first_name=0&last_name=1&domain=2", Encoding.UTF8.GetBytes(file.ToString()));
        var accepted = await response.JsonWithStatusAsync(HttpStatusCode.Accepted);
        var uploadId = accepted["upload_id"]!.GetValue<string>();
        Assert.Equal($"{CsvPath}/{uploadId}", response.Headers.Location?.OriginalString);
        Assert.Equal(250, accepted["row_count"]!.GetValue<int>());
        Assert.Equal(249, accepted["item_count"]!.GetValue<int>());
        Assert.Equal(1, accepted["skipped_count"]!.GetValue<int>());
        var requestIds = Strings(accepted["request_ids"]!);
        Assert.Equal(3, requestIds.Count);

        // Each request is an ordinary one of this account: 100, 100 and 49 people, charged and reserved as a POST is.
        var sizes = new List<int>();
        foreach (var id in requestIds)
        {
            sizes.Add((await account.WaitForCompletionAsync(id))["item_count"]!.GetValue<int>());
        }

        Assert.Equal([100, 100, 49], sizes);
        var status = await account.Http.GetFromJsonAsync<JsonNode>($"{CsvPath}/{uploadId}");
        Assert.Equal("COMPLETED", status!["status"]!.GetValue<string>());
        Assert.Equal(249, status["done_count"]!.GetValue<long>());
        var state = await App.StoredStateAsync(account);
        Assert.Equal((10L, 0L, 3L, 249L), (state.Used, state.Reserved, state.Batches, state.Items)); // Grace's phone; her address is UNKNOWN, free

        using var download = await account.Http.GetAsync($"{CsvPath}/{uploadId}/enriched");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("text/csv", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("leads.enriched.csv", download.Content.Headers.ContentDisposition?.FileName);
        var input = Parse(file.ToString());
        var output = Parse(await download.Content.ReadAsStringAsync());
        Assert.Equal([.. input[0], .. EnrichedColumns.Names], output[0]);
        Assert.Equal(input.Count, output.Count);
        for (var i = 1; i < input.Count; i++)
        {
            Assert.Equal(input[i], output[i][..4]);
        }

        Assert.Equal([known.Email!, "UNKNOWN", $"{known.Email}:UNKNOWN", "+12025550143", "US", "+12025550143", "COMPLETED", ""], output[1][4..]);
        Assert.Equal(["", "", "", "", "", "", "SKIPPED", "no domain"], output[8][4..]);
        Assert.Equal("COMPLETED", output[250][^2]);

        // Rows a page at a time, each with who it is, its answer, the evidence and its request.
        var rows = await account.Http.GetFromJsonAsync<JsonNode>($"{CsvPath}/{uploadId}/rows?offset=0&limit=8");
        Assert.Equal(250, rows!["row_count"]!.GetValue<int>());
        var first = rows["rows"]![0]!;
        Assert.Equal(2, first["row"]!.GetValue<int>());
        Assert.Equal(known.LastName, first["lastname"]!.GetValue<string>());
        Assert.Equal(requestIds[0], first["request_id"]!.GetValue<string>());
        var email = Assert.Single(first["emails"]!.AsArray())!;
        Assert.Equal(known.Email, email["email"]!.GetValue<string>());
        Assert.Equal("directory", email["evidence"]![0]!["source"]!.GetValue<string>());
        var skipped = rows["rows"]![7]!;
        Assert.Equal(("SKIPPED", "no domain"), (skipped["status"]!.GetValue<string>(), skipped["error"]!.GetValue<string>()));
        var last = await account.Http.GetFromJsonAsync<JsonNode>($"{CsvPath}/{uploadId}/rows?offset=249&limit=500");
        Assert.Equal(requestIds[2], Assert.Single(last!["rows"]!.AsArray())!["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_same_upload_with_the_same_Idempotency_Key_is_one_upload_and_a_multipart_form_works_too()
    {
        var account = await App.CreateAccountAsync();
        var file = Encoding.UTF8.GetBytes("first name,last name,domain\nAda,Lovelace,analytical-engines.com\n");
        var key = "upload-" + Bodies.Unique();

        async Task<HttpResponseMessage> SendAsync()
        {
            var form = new MultipartFormDataContent();
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            form.Add(part, "file", "people.csv");
            var request = new HttpRequestMessage(HttpMethod.Post, $"{CsvPath}/enrich?fields=emails") { Content = form };
            request.Headers.Add("Idempotency-Key", key);
            return await account.Http.SendAsync(request);
        }

        using var first = await SendAsync();
        var upload = await first.JsonWithStatusAsync(HttpStatusCode.Accepted);
        Assert.Equal("people.csv", upload["file_name"]!.GetValue<string>());
        await account.WaitForCompletionAsync(upload["request_ids"]![0]!.GetValue<string>());
        var before = await App.StoredStateAsync(account);
        using var second = await SendAsync();
        var again = await second.JsonWithStatusAsync(HttpStatusCode.OK);
        Assert.Equal(upload["upload_id"]!.GetValue<string>(), again["upload_id"]!.GetValue<string>());
        Assert.Equal(before, await App.StoredStateAsync(account));
        Assert.Equal(1, before.Batches);
    }

    [Fact]
    public async Task A_file_the_account_cannot_pay_for_whole_stores_nothing_and_another_account_finds_nothing()
    {
        var account = await App.CreateAccountAsync(credits: 150);
        var file = new StringBuilder("firstname,lastname,domain\n");
        for (var i = 0; i < 160; i++)
        {
            file.Append(CultureInfo.InvariantCulture, $"P{i},Q{i},company{i}.com\n");
        }

        var before = await App.StoredStateAsync(account);
        using var refused = await PostCsvAsync(account, $"{CsvPath}/enrich?fields=emails", Encoding.UTF8.GetBytes(file.ToString()));
        var problem = await refused.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        Assert.Contains("needs 160 credits", problem["detail"]!.GetValue<string>());
        await App.AssertNothingStoredAsync(account, before);

        using var accepted = await PostCsvAsync(account, $"{CsvPath}/enrich?fields=emails", Encoding.UTF8.GetBytes(string.Join('\n', file.ToString().Split('\n').Take(101))));
        var uploadId = (await accepted.JsonWithStatusAsync(HttpStatusCode.Accepted))["upload_id"]!.GetValue<string>();
        var other = await App.CreateAccountAsync();
        foreach (var path in new[] { "", "/rows", "/enriched" })
        {
            using var response = await other.Http.GetAsync($"{CsvPath}/{uploadId}{path}");
            await response.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Too_many_rows_no_name_columns_and_a_wrong_body_are_refused_saying_why()
    {
        var account = await App.CreateAccountAsync();
        var big = new StringBuilder("firstname,lastname,domain\n");
        for (var i = 0; i <= 10_000; i++)
        {
            big.Append("A,B,c.com\n");
        }

        using var tooMany = await PostCsvAsync(account, $"{CsvPath}/preview", Encoding.UTF8.GetBytes(big.ToString()));
        var problem = await tooMany.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("has 10,001 rows; one upload may hold up to 10,000", problem["detail"]!.GetValue<string>());

        using var noDomain = await PostCsvAsync(account, $"{CsvPath}/enrich", Encoding.UTF8.GetBytes("firstname,lastname,company\nA,B,C\n"));
        await noDomain.AssertUnprocessableAtAsync("query.domain");

        using var badColumn = await PostCsvAsync(account, $"{CsvPath}/preview?first_name=7", Encoding.UTF8.GetBytes("firstname,lastname,domain\nA,B,c.com\n"));
        await badColumn.AssertUnprocessableAtAsync("query.first_name");

        using var latin1 = await PostCsvAsync(account, $"{CsvPath}/preview", [.. Encoding.UTF8.GetBytes("firstname,lastname,domain\nJos"), 0xE9, .. Encoding.UTF8.GetBytes(",B,c.com\n")]);
        Assert.Contains("is not UTF-8", (await latin1.AssertUnprocessableAtAsync("body")).ErrorAt("body")["message"]!.GetValue<string>());

        using var json = await account.Http.PostAsync($"{CsvPath}/preview", new StringContent("{}", Encoding.UTF8, "application/json"));
        await json.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Erasing_a_person_deletes_the_uploaded_files_that_named_them_and_keeps_the_others()
    {
        var unique = Bodies.Unique();
        var account = await App.CreateAccountAsync();
        async Task<string> UploadAsync(string last)
        {
            using var response = await PostCsvAsync(account, $"{CsvPath}/enrich?fields=emails",
                Encoding.UTF8.GetBytes($"firstname,lastname,domain,notes\nZed,{last},erase{unique}.com,private note\n"));
            var upload = await response.JsonWithStatusAsync(HttpStatusCode.Accepted);
            await account.WaitForCompletionAsync(upload["request_ids"]![0]!.GetValue<string>());
            return upload["upload_id"]!.GetValue<string>();
        }

        var named = await UploadAsync($"Gone{unique}");
        var other = await UploadAsync($"Stays{unique}");

        var erased = (await ProgramRunner.RunAsync(App.Database, "people", "erase", "--person", $"Zed Gone{unique}", "--domain", $"erase{unique}.com")).AssertSucceeded();

        Assert.Contains(erased.OutputLines, line => line.Contains("uploaded CSV files", StringComparison.Ordinal) && line.Contains(" 1 ", StringComparison.Ordinal));
        using (var gone = await account.Http.GetAsync($"{CsvPath}/{named}/enriched"))
        {
            await gone.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using var kept = await account.Http.GetAsync($"{CsvPath}/{other}/enriched");
        Assert.Contains($"Stays{unique}", await kept.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<JsonObject> PreviewAsync(TestAccount account, byte[] file, string query)
    {
        using var response = await PostCsvAsync(account, $"{CsvPath}/preview?{query}", file);
        return await response.JsonWithStatusAsync(HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> PostCsvAsync(TestAccount account, string path, byte[] file)
    {
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return account.Http.PostAsync(path, content);
    }

    private static List<string> Strings(JsonNode array) => array.AsArray().Select(n => n!.GetValue<string>()).ToList();

    private static List<int> Numbers(JsonNode array) => array.AsArray().Select(n => n!.GetValue<int>()).ToList();

    private static List<string[]> Parse(string text)
    {
        using var parser = new CsvParser(new StringReader(text), new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false });
        var rows = new List<string[]>();
        while (parser.Read())
        {
            rows.Add(parser.Record!);
        }

        return rows;
    }
}

public sealed class SqliteCsvUploadTests(AppFixture<Sqlite> fixture) : CsvUploadTests<Sqlite>(fixture);

public sealed class PostgresCsvUploadTests(AppFixture<Postgres> fixture) : CsvUploadTests<Postgres>(fixture);

internal static class CsvUploadResponses
{
    /// <summary>The JSON body of a response that must have <paramref name="expected"/> status, with the body in the failure message.</summary>
    public static async Task<JsonObject> JsonWithStatusAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
