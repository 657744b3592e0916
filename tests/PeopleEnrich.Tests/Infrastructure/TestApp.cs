using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Accounts;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>
/// The real application on Kestrel, listening on a loopback port, with its own database. Tests
/// talk to it over real HTTP.
/// </summary>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public const string BootstrapKey = "pe_test_bootstrap_key_0123456789";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    private TestApp(TestDatabase database, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        _services = services;
        Database = database;
        _settings = new Dictionary<string, string?>(database.Settings)
        {
            ["Bootstrap:ApiKey"] = BootstrapKey,
            ["RateLimit:PermitsPerSecond"] = "1000",
            ["Workers:RetryDelay"] = "00:00:00.200",
            // Two retries after an outage, as in production, but half a second apart rather than 30 s and 2 min.
            ["Waterfall:OutageRetryAfter:0"] = "00:00:00.500",
            ["Waterfall:OutageRetryAfter:1"] = "00:00:00.500",
        };
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    public TestDatabase Database { get; }

    public static async Task<TestApp> StartAsync(string provider, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var app = new TestApp(database, settings ?? new Dictionary<string, string?>(), services);
        app.StartServer();
        return app;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A fresh account with <paramref name="credits"/> and a client that sends its key.</summary>
    public async Task<TestAccount> CreateAccountAsync(long credits = 1000)
    {
        var created = await Service<AccountStore>().CreateAccountAsync("test-" + Guid.NewGuid().ToString("N")[..10], credits, null, CancellationToken.None);
        return new TestAccount(created.AccountId, created.ApiKey, Client(created.ApiKey));
    }

    /// <summary>A client on the real socket, sending <paramref name="authorization"/> as it is (or nothing).</summary>
    public HttpClient Client(string? authorization = null)
    {
        var client = CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed record TestAccount(string AccountId, string ApiKey, HttpClient Http)
{
    public Task<HttpResponseMessage> SubmitAsync(object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/people/enrich") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return Http.SendAsync(request);
    }

    /// <summary>Submits and returns the request id, failing the test unless the answer is 202.</summary>
    public async Task<string> SubmitAcceptedAsync(object body)
    {
        using var response = await SubmitAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!["request_id"]!.GetValue<string>();
    }

    public async Task<JsonNode> GetAsync(string requestId, int waitSeconds = 0)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v2/people/enrich/{requestId}");
        if (waitSeconds > 0)
        {
            request.Headers.TryAddWithoutValidation("Prefer", $"wait={waitSeconds}");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {requestId}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Polls (with Prefer: wait) until the batch leaves PROCESSING, for at most a minute.</summary>
    public async Task<JsonNode> WaitForCompletionAsync(string requestId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var batch = await GetAsync(requestId, waitSeconds: 5);
            if (batch["status"]!.GetValue<string>() != "PROCESSING")
            {
                return batch;
            }

            Assert.True(DateTime.UtcNow < deadline, $"batch {requestId} still PROCESSING after a minute: {batch.ToJsonString()}");
        }
    }

    public async Task<(long Used, long Total, long Remaining)> CreditsAsync()
    {
        var credits = (await Http.GetFromJsonAsync<JsonNode>("/api/v2/credits"))!["credits"]![0]!;
        return (credits["used_credits"]!.GetValue<long>(), credits["total_credits"]!.GetValue<long>(), credits["remaining_credits"]!.GetValue<long>());
    }
}

/// <summary>Requests to build in tests.</summary>
public static class People
{
    public static object Person(string first = "Ada", string last = "Lovelace", string domain = "analytical-engines.com", params string[] fields) => new Dictionary<string, object>
    {
        ["firstname"] = first,
        ["lastname"] = last,
        ["domain"] = domain,
        ["enrich_fields"] = fields.Length == 0 ? new[] { "contact.emails" } : fields,
    };

    public static object Batch(params object[] people) => new { requests = people };

    public static object Batch(int count, params string[] fields) =>
        new { requests = Enumerable.Range(0, count).Select(i => Person($"First{i}", $"Last{i}", $"company{i % 7}.com", fields)).ToArray() };
}
