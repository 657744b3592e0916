using System.Net;
using System.Text.RegularExpressions;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Api;

/// <summary>/docs as a newcomer reads it: how to authenticate, and a curl example for each operation.</summary>
public abstract partial class DocsPageTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task Docs_show_how_to_authenticate_and_a_curl_for_every_operation()
    {
        using var response = await fixture.App.Client().GetAsync("/docs");
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Authentication", html, StringComparison.Ordinal);
        Assert.Contains("Authorization header", html, StringComparison.Ordinal);

        var operations = Operation().Matches(html).Select(m => m.Value).ToList();
        Assert.Equal(11, operations.Count); // the contract's five, the bounce report, and the CSV upload's five
        // A parameter the CSV operations share is written once in the contract (a $ref) and shown on each.
        Assert.Equal(2, operations.Count(o => o.Contains("<code>first_name</code>", StringComparison.Ordinal)));
        foreach (var operation in operations)
        {
            Assert.Contains("curl -s ", operation, StringComparison.Ordinal);
            Assert.Contains("http://localhost:8080/api/v2/", operation, StringComparison.Ordinal);
            Assert.Contains("-H \"Authorization: $KEY\"", operation, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("<div class=\"op\".*?</div>", RegexOptions.Singleline)]
    private static partial Regex Operation();
}

public sealed class SqliteDocsPageTests(AppFixture<Sqlite> fixture) : DocsPageTests<Sqlite>(fixture);

public sealed class PostgresDocsPageTests(AppFixture<Postgres> fixture) : DocsPageTests<Postgres>(fixture);
