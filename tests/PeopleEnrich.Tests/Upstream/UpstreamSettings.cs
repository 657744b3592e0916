using System.Globalization;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>The app's settings for upstreams in tests: short waits, so that retries and polls take a second or two, not minutes.</summary>
public static class UpstreamSettings
{
    public static Dictionary<string, string?> For(Uri baseUrl, string apiKey, string name = "peer", int index = 0)
    {
        var key = $"Upstreams:{index.ToString(CultureInfo.InvariantCulture)}:";
        return new Dictionary<string, string?>
        {
            [key + "Name"] = name,
            [key + "BaseUrl"] = baseUrl.ToString(),
            [key + "ApiKey"] = apiKey,
            [key + "PollInterval"] = "00:00:01",
            [key + "BatchWindow"] = "00:00:00.100",
            [key + "RetryDelay"] = "00:00:00.100",
            [key + "MaxRetryDelay"] = "00:00:02",
            [key + "AttemptTimeout"] = "00:00:05",
            [key + "Timeout"] = "00:00:20",
        };
    }

    /// <summary>A key no other test uses, so that finding it anywhere means it leaked from here.</summary>
    public static string NewKey() => "pe_upstream_" + Guid.NewGuid().ToString("N");
}
