using System.Net;
using System.Text.Json.Nodes;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// What every error answer must be (the contract's ErrorModel as application/problem+json), and
/// where its violations are.
/// </summary>
public static class ProblemAssertions
{
    private static readonly HashSet<string> ErrorModelKeys = ["type", "title", "status", "detail", "instance", "errors"];
    private static readonly HashSet<string> ErrorDetailKeys = ["location", "message", "value"];

    /// <summary>
    /// Asserts the answer is <paramref name="expected"/> with a problem body whose status is the same,
    /// with a title and a detail, no stack trace, and only the ErrorModel's properties; returns the body.
    /// </summary>
    public static async Task<JsonObject> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertNoInternals(text);

        var problem = Assert.IsType<JsonObject>(JsonNode.Parse(text));
        Assert.All(problem.Select(p => p.Key), key => Assert.Contains(key, ErrorModelKeys));
        Assert.Equal((int)expected, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()), $"no title: {text}");
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()), $"no detail: {text}");
        foreach (var error in Errors(problem))
        {
            Assert.All(error.Select(p => p.Key), key => Assert.Contains(key, ErrorDetailKeys));
            Assert.False(string.IsNullOrWhiteSpace(error["location"]?.GetValue<string>()), $"an error without a location: {text}");
            Assert.False(string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>()), $"an error without a message: {text}");
        }

        return problem;
    }

    /// <summary>
    /// A 401 problem (with WWW-Authenticate: Bearer) whose detail contains <paramref name="detailContains"/>
    /// and never echoes <paramref name="credential"/>; returns the body.
    /// </summary>
    public static async Task<JsonObject> AssertUnauthorizedAsync(this HttpResponseMessage response, string detailContains, string? credential = null)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.Select(h => h.Scheme));
        Assert.Contains(detailContains, problem["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        if (credential is { Length: > 0 })
        {
            Assert.DoesNotContain(credential, problem.ToJsonString(), StringComparison.Ordinal);
        }

        return problem;
    }

    /// <summary>Asserts a 422 that lists a violation at every one of <paramref name="locations"/>; returns the body.</summary>
    public static async Task<JsonObject> AssertUnprocessableAtAsync(this HttpResponseMessage response, params string[] locations)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        problem.AssertErrorsAt(locations);
        return problem;
    }

    /// <summary>The errors listed in a problem (none when it has no errors property).</summary>
    public static IReadOnlyList<JsonObject> Errors(this JsonObject problem) =>
        problem["errors"] is JsonArray errors ? errors.Select(e => Assert.IsType<JsonObject>(e)).ToList() : [];

    public static IReadOnlyList<string> Locations(this JsonObject problem) =>
        problem.Errors().Select(e => e["location"]!.GetValue<string>()).ToList();

    /// <summary>Asserts a violation is listed at each location (others may be listed too).</summary>
    public static void AssertErrorsAt(this JsonObject problem, params string[] locations)
    {
        var listed = problem.Locations();
        foreach (var location in locations)
        {
            Assert.True(listed.Contains(location), $"no error at {location}; listed: {string.Join(", ", listed)} in {problem.ToJsonString()}");
        }
    }

    /// <summary>The first error listed at <paramref name="location"/>.</summary>
    public static JsonObject ErrorAt(this JsonObject problem, string location) =>
        problem.Errors().FirstOrDefault(e => e["location"]!.GetValue<string>() == location)
        ?? throw new Xunit.Sdk.XunitException($"no error at {location} in {problem.ToJsonString()}");

    /// <summary>An answer that leaks how the server is built: a stack trace, an exception's name, a source path.</summary>
    public static void AssertNoInternals(string text)
    {
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PeopleEnrich.", text, StringComparison.Ordinal);
    }
}
