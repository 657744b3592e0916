using System.Text.Json.Nodes;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>Looking people up through the API, end to end: submit, wait (Prefer: wait), read each result.</summary>
public static class Enrichment
{
    public const string Emails = "contact.emails";
    public const string Phones = "contact.phones";

    /// <summary>One person to look up, asking for emails and phones unless told otherwise.</summary>
    public static Dictionary<string, object> Query(string firstName, string lastName, string domain, string? linkedInUrl = null, params string[] fields)
    {
        var person = new Dictionary<string, object>
        {
            ["firstname"] = firstName,
            ["lastname"] = lastName,
            ["domain"] = domain,
            ["enrich_fields"] = fields.Length == 0 ? new[] { Emails, Phones } : fields,
        };
        if (linkedInUrl is not null)
        {
            person["linkedin_url"] = linkedInUrl;
        }

        return person;
    }

    /// <summary>
    /// Submits <paramref name="people"/> as one batch, waits until it completes and returns one
    /// result per person, in order (each checked to be COMPLETED and to carry its index back in custom.i).
    /// </summary>
    public static async Task<IReadOnlyList<JsonNode>> EnrichAsync(this TestAccount account, params Dictionary<string, object>[] people)
    {
        var tagged = people.Select((person, i) => new Dictionary<string, object>(person) { ["custom"] = new Dictionary<string, string> { ["i"] = $"{i}" } }).ToArray();
        var requestId = await account.SubmitAcceptedAsync(new { requests = tagged });
        var batch = await account.WaitForCompletionAsync(requestId);
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        var results = batch["results"]!.AsArray().Select(r => r!).ToList();
        Assert.Equal(people.Length, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            Assert.Equal($"{i}", results[i]["custom"]?["i"]?.GetValue<string>());
            Assert.True(results[i]["status"]!.GetValue<string>() == "COMPLETED", $"result {i}: {results[i].ToJsonString()}");
        }

        return results;
    }

    /// <summary>The addresses of a result, as (email, status).</summary>
    public static IReadOnlyList<(string Email, string Status)> EmailsOf(JsonNode result) =>
        result["emails"]?.AsArray().Select(e => (e!["email"]!.GetValue<string>(), e["status"]!.GetValue<string>())).ToList() ?? [];

    /// <summary>The numbers of a result, as (number, region).</summary>
    public static IReadOnlyList<(string Number, string Region)> PhonesOf(JsonNode result) =>
        result["phones"]?.AsArray().Select(p => (p!["number"]!.GetValue<string>(), p["region"]!.GetValue<string>())).ToList() ?? [];
}
