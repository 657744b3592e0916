using System.Net;
using System.Text.Json.Nodes;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>Assertions on the API's RFC 9457 problem answers.</summary>
public static class ProblemAssert
{
    /// <summary>
    /// A 401 problem+json (with WWW-Authenticate: Bearer) whose detail contains
    /// <paramref name="detailContains"/> and never echoes <paramref name="credential"/>. Returns the body.
    /// </summary>
    public static async Task<JsonNode> UnauthorizedAsync(HttpResponseMessage response, string detailContains, string? credential = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"expected 401, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.Select(h => h.Scheme));
        var problem = JsonNode.Parse(text)!;
        Assert.Equal(401, problem["status"]!.GetValue<int>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains(detailContains, detail, StringComparison.OrdinalIgnoreCase);
        if (credential is { Length: > 0 })
        {
            Assert.DoesNotContain(credential, text, StringComparison.Ordinal);
        }

        return problem;
    }
}
