using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>Batches of a server running as a child process, read over its HTTP API with a client that carries the key.</summary>
public static class ServerBatches
{
    /// <summary>Polls (with Prefer: wait) until the batch leaves PROCESSING, for at most <paramref name="within"/>.</summary>
    public static async Task<JsonNode> WaitForCompletionAsync(HttpClient http, string requestId, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v2/people/enrich/{requestId}");
            request.Headers.TryAddWithoutValidation("Prefer", "wait=10");
            using var response = await http.SendAsync(request);
            var batch = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
            if (batch["status"]!.GetValue<string>() != "PROCESSING")
            {
                return batch;
            }

            Assert.True(DateTime.UtcNow < deadline, $"batch {requestId} still PROCESSING after {within}");
        }
    }
}
