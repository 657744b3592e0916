using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CsvHelper;
using PeopleEnrich.Api;
using PeopleEnrich.Spreadsheets;
using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.ApiRequests;

namespace PeopleEnrich.Tests.Api;

/// <summary>GET of one request with Accept: text/csv (extension): the people as submitted, then the enrich command's columns.</summary>
public abstract class ResultsCsvTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Accept_text_csv_answers_each_person_as_submitted_with_the_enrich_columns()
    {
        var unique = Bodies.Unique();
        var domain = $"csv{unique}.com";
        var known = new DirectoryRow($"Zoe{unique}", $"Known{unique}", domain, $"zoe.{unique}@{domain}", "+33612345678");
        await App.ImportDirectoryAsync([known]);
        var first = Bodies.Named(known.FirstName, known.LastName, domain, "contact.emails", "contact.phones");
        first["company_name"] = "Acme, \"Quoted\" Ltd";
        first["custom"] = new JsonObject { ["crm_id"] = "A-1", ["note"] = "semi; colon, comma" };
        var second = Bodies.Person("contact.emails");
        second["custom"] = new JsonObject { ["owner"] = "sam" };
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(first, second));
        await account.WaitForCompletionAsync(id);

        var (response, rows) = await CsvAsync(account, id, "text/csv");

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"peopleenrich-{id}.csv", response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(
            [.. ResultsCsv.PersonColumns, "custom.crm_id", "custom.note", "custom.owner", .. EnrichedColumns.Names],
            rows[0]);
        Assert.Equal(3, rows.Count);
        Assert.Equal(
            [known.FirstName, known.LastName, domain, "Acme, \"Quoted\" Ltd", "", "A-1", "semi; colon, comma", "",
             known.Email!, "UNKNOWN", $"{known.Email}:UNKNOWN", "+33612345678", "FR", "+33612345678", "COMPLETED", ""],
            rows[1]);
        var unknown = rows[2];
        Assert.Equal(second["firstname"]!.GetValue<string>(), unknown[0]);
        Assert.Equal(second["domain"]!.GetValue<string>(), unknown[2]);
        Assert.Equal(["", "", "sam"], unknown[5..8]);
        Assert.Equal("COMPLETED", unknown[^2]);
        Assert.Equal("", unknown[8]);
    }

    [Fact]
    public async Task Json_stays_the_answer_unless_csv_is_preferred()
    {
        var account = await App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(Bodies.Batch(1));
        foreach (var accept in new[] { "application/json", "*/*", "application/json, text/csv;q=0.5" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{id}");
            request.Headers.TryAddWithoutValidation("Accept", accept);
            using var response = await account.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Another_accounts_request_is_not_found_as_csv_either()
    {
        var owner = await App.CreateAccountAsync();
        var other = await App.CreateAccountAsync();
        var id = await owner.SubmitAcceptedAsync(Bodies.Batch(1));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{id}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var response = await other.Http.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private static async Task<(HttpResponseMessage Response, List<string[]> Rows)> CsvAsync(TestAccount account, string id, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{EnrichPath}/{id}");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await account.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        using var parser = new CsvParser(new StringReader(text), CultureInfo.InvariantCulture);
        var rows = new List<string[]>();
        while (await parser.ReadAsync())
        {
            rows.Add(parser.Record!);
        }

        return (response, rows);
    }
}

public sealed class SqliteResultsCsvTests(AppFixture<Sqlite> fixture) : ResultsCsvTests<Sqlite>(fixture);

public sealed class PostgresResultsCsvTests(AppFixture<Postgres> fixture) : ResultsCsvTests<Postgres>(fixture);
