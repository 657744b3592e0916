using System.Text.Json.Nodes;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Api;

/// <summary>
/// Every location a POST body can break, each violation listed with its location, and a rejected
/// batch stores nothing at all.
/// </summary>
public abstract class SubmitValidationTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private TestApp App => fixture.App;

    public static TheoryData<string> BrokenStrings => ["missing", "empty", "blank", "number", "null", "array", "object", "boolean"];

    [Theory]
    [MemberData(nameof(BrokenStrings))]
    public async Task A_broken_firstname_of_the_fourth_person_is_422_there_only(string how)
    {
        var body = Bodies.Batch(4);
        Break(Person(body, 3), "firstname", how);

        var problem = await RejectedAsync(body, "body.requests[3].firstname");

        Assert.Equal(["body.requests[3].firstname"], problem.Locations().Distinct());
    }

    [Theory]
    [MemberData(nameof(BrokenStrings))]
    public async Task A_broken_lastname_is_422_at_its_location(string how)
    {
        var body = Bodies.Batch(2);
        Break(Person(body, 0), "lastname", how);

        var problem = await RejectedAsync(body, "body.requests[0].lastname");

        Assert.Equal(["body.requests[0].lastname"], problem.Locations().Distinct());
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("localhost")]
    [InlineData("has space.com")]
    [InlineData("a@b.com")]
    [InlineData("[::1]")]
    [InlineData("http://192.168.1.1:8080/admin")]
    [InlineData("1.2.3.4.5")]
    [InlineData("-acme.com")]
    [InlineData("acme..com")]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_domain_that_is_not_a_host_name_is_422_at_its_location(string domain)
    {
        var body = Bodies.Batch(2);
        Person(body, 0)["domain"] = domain;

        var problem = await RejectedAsync(body, "body.requests[0].domain");

        Assert.Equal(["body.requests[0].domain"], problem.Locations().Distinct());
        Assert.Equal(domain, problem.ErrorAt("body.requests[0].domain")["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("https://www.Acme{0}.com/about", "acme{0}.com")]
    [InlineData("ACME{0}.COM", "acme{0}.com")]
    [InlineData("http://acme{0}.com:8080/path?q=1#top", "acme{0}.com")]
    [InlineData("acme{0}.com.", "acme{0}.com")]
    [InlineData("  www.acme{0}.co.uk  ", "acme{0}.co.uk")]
    [InlineData("https://Bücher.de/", "xn--bcher-kva.de")]
    public async Task A_loosely_written_domain_is_accepted_and_stored_normalised(string written, string stored)
    {
        var unique = Bodies.Unique();
        var account = await App.CreateAccountAsync();
        var body = Bodies.Batch(Bodies.Named($"Ada{unique}", $"Lovelace{unique}", Format(written, unique)));

        var id = (await (await account.PostJsonAsync(body)).AssertAcceptedAsync())["request_id"]!.GetValue<string>();

        Assert.Equal([Format(stored, unique)], await App.StoredDomainsAsync(id));
    }

    [Fact]
    public async Task A_normalised_domain_finds_the_directory_contact_at_that_domain()
    {
        var unique = Bodies.Unique();
        var email = $"ada.lovelace@acme{unique}.com";
        await App.ImportDirectoryAsync(new DirectoryRow($"Ada{unique}", $"Lovelace{unique}", $"acme{unique}.com", email, null));
        var account = await App.CreateAccountAsync();

        var id = await account.SubmitAcceptedAsync(Bodies.Batch(Bodies.Named($"Ada{unique}", $"Lovelace{unique}", $"https://www.Acme{unique}.com/about")));
        var batch = await account.WaitForCompletionAsync(id);

        Assert.Equal(email, batch["results"]![0]!["emails"]![0]!["email"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"contact.fax\"")]
    [InlineData("\"CONTACT.PHONES\"")]
    [InlineData("\"\"")]
    [InlineData("5")]
    [InlineData("null")]
    [InlineData("[\"contact.phones\"]")]
    public async Task An_unknown_enrich_field_is_422_at_its_index(string second)
    {
        var body = Bodies.Batch(2);
        Person(body, 0)["enrich_fields"] = JsonNode.Parse($"[\"contact.emails\", {second}]");

        var problem = await RejectedAsync(body, "body.requests[0].enrich_fields[1]");

        Assert.Equal(["body.requests[0].enrich_fields[1]"], problem.Locations().Distinct());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"contact.emails\"")]
    [InlineData("{\"0\": \"contact.emails\"}")]
    [InlineData(null)]
    public async Task Enrich_fields_that_are_not_a_non_empty_list_are_422_at_the_list(string? fields)
    {
        var body = Bodies.Batch(2);
        if (fields is null)
        {
            Person(body, 0).Remove("enrich_fields");
        }
        else
        {
            Person(body, 0)["enrich_fields"] = JsonNode.Parse(fields);
        }

        var problem = await RejectedAsync(body, "body.requests[0].enrich_fields");

        Assert.Equal(["body.requests[0].enrich_fields"], problem.Locations().Distinct());
    }

    [Theory]
    [InlineData("101")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"Ada Lovelace\"")]
    [InlineData("{}")]
    [InlineData("7")]
    [InlineData(null)]
    public async Task Requests_that_are_not_a_list_of_1_to_100_people_are_422_at_body_requests(string? requests)
    {
        var body = requests switch
        {
            "101" => Bodies.Batch(101),
            null => new JsonObject(),
            _ => new JsonObject { ["requests"] = JsonNode.Parse(requests) },
        };

        var problem = await RejectedAsync(body, "body.requests");

        Assert.Equal(["body.requests"], problem.Locations().Distinct());
    }

    [Fact]
    public async Task A_hundred_people_are_accepted()
    {
        var account = await App.CreateAccountAsync();

        var accepted = await (await account.PostJsonAsync(Bodies.Batch(100))).AssertAcceptedAsync();

        Assert.Equal(100, accepted["item_count"]!.GetValue<long>());
        Assert.Equal(100, (await App.StoredStateAsync(account)).Items);
    }

    [Fact]
    public async Task Unknown_properties_are_422_each_at_its_location()
    {
        var body = Bodies.Batch(2);
        body["foo"] = "bar";
        Person(body, 0)["foo"] = 1;
        Person(body, 1)["first name"] = "Ada";

        var problem = await RejectedAsync(body, "body.foo", "body.requests[0].foo", "body.requests[1][\"first name\"]");

        Assert.Equal(3, problem.Errors().Count);
    }

    [Theory]
    [InlineData("{\"key\": 5}", "body.requests[0].custom.key")]
    [InlineData("{\"key\": null}", "body.requests[0].custom.key")]
    [InlineData("{\"key\": true}", "body.requests[0].custom.key")]
    [InlineData("{\"key\": [\"a\"]}", "body.requests[0].custom.key")]
    [InlineData("{\"key\": {\"nested\": \"a\"}}", "body.requests[0].custom.key")]
    [InlineData("{\"ok\": \"fine\", \"my key\": 5}", "body.requests[0].custom[\"my key\"]")]
    [InlineData("\"key=value\"", "body.requests[0].custom")]
    [InlineData("[\"key\"]", "body.requests[0].custom")]
    [InlineData("null", "body.requests[0].custom")]
    public async Task Custom_values_that_are_not_strings_are_422_at_their_key(string custom, string location)
    {
        var body = Bodies.Batch(2);
        Person(body, 0)["custom"] = JsonNode.Parse(custom);

        var problem = await RejectedAsync(body, location);

        Assert.Equal([location], problem.Locations().Distinct());
    }

    public static TheoryData<string, string> ControlCharacters()
    {
        var data = new TheoryData<string, string>();
        foreach (var property in new[] { "firstname", "lastname", "company_name", "linkedin_url", "custom" })
        {
            foreach (var character in new[] { "\u0000", "\n", "\u007f", "\t", "\r", "\u001f" })
            {
                data.Add(property, character);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public async Task A_control_character_in_any_string_of_a_person_is_422_at_its_location(string property, string character)
    {
        var body = Bodies.Batch(2);
        var value = $"Ada{character}Lovelace";
        var person = Person(body, 1);
        person["company_name"] = "Analytical Engines";
        person["linkedin_url"] = "https://www.linkedin.com/in/ada-lovelace";
        person["custom"] = new JsonObject { ["crm_id"] = "42" };
        string location;
        if (property == "custom")
        {
            person["custom"]!["note"] = value;
            location = "body.requests[1].custom.note";
        }
        else
        {
            person[property] = value;
            location = $"body.requests[1].{property}";
        }

        var problem = await RejectedAsync(body, location);

        Assert.Equal([location], problem.Locations().Distinct());
        Assert.Equal(value, problem.ErrorAt(location)["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_control_character_in_a_custom_key_is_422_at_custom()
    {
        var body = Bodies.Batch(1);
        Person(body, 0)["custom"] = new JsonObject { ["crm\u0000id"] = "42" };

        await RejectedAsync(body, "body.requests[0].custom");
    }

    [Fact]
    public async Task Every_violation_is_listed_not_only_the_first()
    {
        var body = Bodies.Batch(6);
        body["foo"] = true;
        Person(body, 0)["domain"] = "localhost";
        Person(body, 1).Remove("lastname");
        Person(body, 2)["enrich_fields"] = new JsonArray("contact.emails", "contact.fax");
        Person(body, 3)["company_name"] = "Acme\nInc";
        Person(body, 4)["custom"] = new JsonObject { ["key"] = 5 };
        Person(body, 5)["firstname"] = "";
        Person(body, 5)["lastname"] = 7;

        var problem = await RejectedAsync(
            body,
            "body.foo",
            "body.requests[0].domain",
            "body.requests[1].lastname",
            "body.requests[2].enrich_fields[1]",
            "body.requests[3].company_name",
            "body.requests[4].custom.key",
            "body.requests[5].firstname",
            "body.requests[5].lastname");

        Assert.Equal(8, problem.Locations().Distinct().Count());
        Assert.Contains("8", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_bad_person_among_good_ones_rejects_the_whole_batch_and_stores_nothing()
    {
        var body = Bodies.Batch(99, "contact.emails", "contact.phones");
        var bad = Bodies.Person();
        bad["firstname"] = "Ada\u0000";
        body["requests"]!.AsArray().Insert(50, bad);

        var problem = await RejectedAsync(body, "body.requests[50].firstname");

        Assert.Equal(["body.requests[50].firstname"], problem.Locations().Distinct());
    }

    /// <summary>Posts <paramref name="body"/> from a fresh account: a 422 listing every location, and nothing stored.</summary>
    [Theory]
    [InlineData("http://10.0.0.5/hooks/done")] // private
    [InlineData("https://192.168.1.20/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")] // cloud metadata
    [InlineData("http://[fd00::1]/hook")] // unique local
    [InlineData("http://127.0.0.1:9000/hook")] // loopback
    [InlineData("http://[::1]/hook")]
    [InlineData("http://localhost:9000/hook")]
    [InlineData("http://hooks.localhost/hook")]
    [InlineData("https://user:secret@hooks.example.com/hook")] // credentials
    [InlineData("ftp://hooks.example.com/hook")]
    [InlineData("http://93.184.215.14:25/hook")] // a public host's mail port: HTTP spoken at SMTP
    [InlineData("https://93.184.215.14:587/hook")]
    [InlineData("/relative/hook")]
    [InlineData("not a url")]
    public async Task A_webhook_url_that_is_not_a_public_address_is_422_at_body_webhook_url(string url)
    {
        // This app runs with the network guard as shipped: no private, loopback or link-local address allowed.
        var body = Bodies.Batch(1);
        body["webhook_url"] = url;

        var problem = await RejectedAsync(body, "body.webhook_url");

        Assert.Equal(["body.webhook_url"], problem.Locations().Distinct());
        Assert.Equal(url, problem.ErrorAt("body.webhook_url")["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_webhook_url_that_is_not_a_string_is_422_at_body_webhook_url()
    {
        var body = Bodies.Batch(1);
        body["webhook_url"] = 42;

        var problem = await RejectedAsync(body, "body.webhook_url");

        Assert.Equal(["body.webhook_url"], problem.Locations().Distinct());
    }

    private async Task<JsonObject> RejectedAsync(JsonNode body, params string[] locations)
    {
        var account = await App.CreateAccountAsync();
        var before = await App.StoredStateAsync(account);

        using var response = await account.PostJsonAsync(body);

        var problem = await response.AssertUnprocessableAtAsync(locations);
        await App.AssertNothingStoredAsync(account, before);
        return problem;
    }

    private static JsonObject Person(JsonObject body, int index) => body["requests"]![index]!.AsObject();

    private static string Format(string pattern, string unique) => string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, unique);

    private static void Break(JsonObject person, string property, string how)
    {
        switch (how)
        {
            case "missing":
                person.Remove(property);
                break;
            case "empty":
                person[property] = "";
                break;
            case "blank":
                person[property] = "   ";
                break;
            case "number":
                person[property] = 42;
                break;
            case "null":
                person[property] = null;
                break;
            case "array":
                person[property] = new JsonArray("Ada");
                break;
            case "object":
                person[property] = new JsonObject { ["name"] = "Ada" };
                break;
            case "boolean":
                person[property] = true;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(how), how, null);
        }
    }
}

public sealed class SqliteSubmitValidationTests(AppFixture<Sqlite> fixture) : SubmitValidationTests<Sqlite>(fixture);

public sealed class PostgresSubmitValidationTests(AppFixture<Postgres> fixture) : SubmitValidationTests<Postgres>(fixture);
