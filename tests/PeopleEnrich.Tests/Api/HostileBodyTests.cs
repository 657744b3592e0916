using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Api;

/// <summary>
/// Bodies a careless or hostile client sends: each is a clear 4xx problem (never a 5xx), stores
/// nothing, and leaves the server answering.
/// </summary>
public abstract class HostileBodyTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    private const int Deep = 10_000;

    private static readonly string Valid = Bodies.Batch(Bodies.Person()).ToJsonString();

    /// <summary>Each case: the bytes to send and the status the contract gives them.</summary>
    private static readonly Dictionary<string, (Func<byte[]> Body, HttpStatusCode Status)> Cases = new()
    {
        ["not JSON"] = (() => Utf8("hello, server"), HttpStatusCode.BadRequest),
        ["truncated JSON"] = (() => Utf8(Valid[..^3]), HttpStatusCode.BadRequest),
        ["trailing garbage"] = (() => Utf8(Valid + " {}"), HttpStatusCode.BadRequest),
        ["a comment"] = (() => Utf8("/* hi */" + Valid), HttpStatusCode.BadRequest),
        ["a trailing comma"] = (() => Utf8("{\"requests\": [],}"), HttpStatusCode.BadRequest),
        ["a raw NUL byte"] = (() => Utf8("{\"requests\": \0}"), HttpStatusCode.BadRequest),
        ["an array at top level"] = (() => Utf8($"[{Valid}]"), HttpStatusCode.BadRequest),
        ["a number at top level"] = (() => Utf8("1e400"), HttpStatusCode.BadRequest),
        ["a string at top level"] = (() => Utf8("\"{\\\"requests\\\": []}\""), HttpStatusCode.BadRequest),
        ["null at top level"] = (() => Utf8("null"), HttpStatusCode.BadRequest),
        ["requests null"] = (() => Utf8("{\"requests\": null}"), HttpStatusCode.UnprocessableEntity),
        ["invalid UTF-8 in a string"] = (() => InvalidUtf8InName(), HttpStatusCode.BadRequest),
        ["invalid UTF-8 outside strings"] = (() => [0xFF, 0xFE, .. Utf8(Valid)], HttpStatusCode.BadRequest),
        ["a lone surrogate escape in a value"] = (() => Utf8(Valid.Replace("\"Ada", "\"\\ud800Ada", StringComparison.Ordinal)), HttpStatusCode.BadRequest),
        ["a lone surrogate escape in a name"] = (() => Utf8("{\"\\udc00\": 1, \"requests\": []}"), HttpStatusCode.BadRequest),
        ["a 5 MiB body"] = (() => FiveMebibytes(), HttpStatusCode.RequestEntityTooLarge),
        ["10,000 nested arrays"] = (() => Utf8(new string('[', Deep) + new string(']', Deep)), HttpStatusCode.BadRequest),
        ["10,000 nested arrays in requests"] = (() => Utf8("{\"requests\":" + new string('[', Deep) + new string(']', Deep) + "}"), HttpStatusCode.BadRequest),
        ["10,000 unclosed arrays in requests"] = (() => Utf8("{\"requests\":" + new string('[', Deep)), HttpStatusCode.BadRequest),
        ["10,000 nested objects in custom"] = (() => Utf8(Valid.Replace("\"firstname\"", "\"custom\":" + string.Concat(Enumerable.Repeat("{\"a\":", Deep)) + "\"x\"" + new string('}', Deep) + ",\"firstname\"", StringComparison.Ordinal)), HttpStatusCode.BadRequest),
        ["a string where the list of people belongs"] = (() => Utf8("{\"requests\": \"" + Valid.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"}"), HttpStatusCode.UnprocessableEntity),
        ["a string where enrich_fields belongs"] = (() => Utf8(Valid.Replace("[\"contact.emails\"]", "\"contact.emails\"", StringComparison.Ordinal)), HttpStatusCode.UnprocessableEntity),
        ["numbers where strings belong"] = (() => Utf8("{\"requests\":[{\"firstname\":1,\"lastname\":2.5,\"domain\":1e400,\"enrich_fields\":[\"contact.emails\"]}]}"), HttpStatusCode.UnprocessableEntity),
        ["control characters in names"] = (() => Utf8(Valid.Replace("\"Ada", "\"\\u0000\\u001b[2J\\u0007Ada", StringComparison.Ordinal)), HttpStatusCode.UnprocessableEntity),
        ["duplicate requests properties"] = (() => Utf8(Valid.TrimEnd('}') + "," + Valid[1..]), HttpStatusCode.UnprocessableEntity),
        ["duplicate properties in a person"] = (() => Utf8(Valid.Replace("\"firstname\"", "\"firstname\":\"Eve\",\"firstname\"", StringComparison.Ordinal)), HttpStatusCode.UnprocessableEntity),
        ["an empty body"] = (() => [], HttpStatusCode.BadRequest),
        ["only whitespace"] = (() => Utf8(" \r\n\t "), HttpStatusCode.BadRequest),
        ["100,000 empty people"] = (() => Utf8("{\"requests\":[" + string.Join(",", Enumerable.Repeat("{}", 100_000)) + "]}"), HttpStatusCode.UnprocessableEntity),
        ["50,000 unknown properties"] = (() => Utf8("{" + string.Concat(Enumerable.Range(0, 50_000).Select(i => $"\"p{i}\":0,")) + "\"requests\":[]}"), HttpStatusCode.UnprocessableEntity),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task A_hostile_body_is_a_clear_4xx_and_stores_nothing(string name)
    {
        var (body, status) = Cases[name];
        var account = await fixture.App.CreateAccountAsync();
        var before = await fixture.App.StoredStateAsync(account);

        using var response = await account.Http.PostRawAsync(body());

        var problem = await response.AssertProblemAsync(status);
        await fixture.App.AssertNothingStoredAsync(account, before);
        // However many violations there are, the answer stays bounded.
        Assert.True(problem.Errors().Count <= 201, $"{problem.Errors().Count} errors listed");
        // And the server still answers this client.
        var accepted = await (await account.PostJsonAsync(Valid)).AssertAcceptedAsync();
        Assert.Equal(1, accepted["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Violations_found_in_a_huge_body_are_capped_and_say_that_more_were_found()
    {
        var account = await fixture.App.CreateAccountAsync();

        using var response = await account.Http.PostRawAsync(Cases["100,000 empty people"].Body());

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        // Not 400,001 entries: a bounded list whose last entry sums up the rest.
        Assert.InRange(problem.Errors().Count, 2, 201);
        Assert.Equal("body.requests", problem.Errors()[0]["location"]!.GetValue<string>());
        Assert.Equal("body", problem.Errors()[^1]["location"]!.GetValue<string>());
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] InvalidUtf8InName()
    {
        var bytes = Utf8(Valid.Replace("\"Ada", "\"@@Ada", StringComparison.Ordinal));
        var at = Array.IndexOf(bytes, (byte)'@');
        bytes[at] = 0xC3; // a lead byte followed by a byte that cannot continue it
        bytes[at + 1] = 0x28;
        return bytes;
    }

    private static byte[] FiveMebibytes()
    {
        var person = Bodies.Person();
        person["custom"] = new JsonObject { ["padding"] = new string('x', 5 * 1024 * 1024) };
        return Utf8(Bodies.Batch(person).ToJsonString());
    }
}

public sealed class SqliteHostileBodyTests(AppFixture<Sqlite> fixture) : HostileBodyTests<Sqlite>(fixture);

public sealed class PostgresHostileBodyTests(AppFixture<Postgres> fixture) : HostileBodyTests<Postgres>(fixture);
