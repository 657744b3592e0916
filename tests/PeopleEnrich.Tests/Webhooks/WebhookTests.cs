using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Tests.Telemetry;

namespace PeopleEnrich.Tests.Webhooks;

/// <summary>
/// Webhooks end to end: the server as a child process, a receiver on loopback, the admin commands as an operator runs
/// them. What is posted is checked as a receiver would: the Standard Webhooks signature with the secret 'webhooks secret'
/// printed, and the data against the GET of the same request.
/// </summary>
public abstract class WebhookTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly TimeSpan Within = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_completed_request_is_posted_to_the_account_default_signed_and_with_exactly_the_GET_body()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var setup = await Setup.StartAsync(TProvider.Name, "hooks-default");
        var hook = new Uri(receiver.Url, "/hooks/peopleenrich?token=s3cr3t-path-token");
        (await setup.RunAsync("webhooks", "set", "--account", "hooks-default", "--url", hook.ToString())).AssertSucceeded();
        var secret = Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-default")).AssertSucceeded().OutputLines);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length >= 24);

        await setup.StartServerAsync();
        var requestId = await setup.SubmitAsync(webhookUrl: null);
        await setup.WaitForCompletionAsync(requestId);
        var call = Assert.Single(await setup.CallsAsync(receiver, 1));

        Assert.Equal(hook.PathAndQuery, call.PathAndQuery);
        Assert.True(call.IsSignedWith(secret), $"signature {call.Signature} does not verify");
        Assert.False(call.IsSignedWith(WrongSecret), "the check accepts any secret");
        Assert.StartsWith("msg_", call.Id, StringComparison.Ordinal);
        Assert.InRange(long.Parse(call.Timestamp!, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.StartsWith("application/json", call.ContentType, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(call.Body);
        Assert.Equal("enrichment.completed", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(TimeSpan.Zero, body.RootElement.GetProperty("timestamp").GetDateTimeOffset().Offset);
        Assert.Equal(await setup.GetBodyAsync(requestId), body.RootElement.GetProperty("data").GetRawText());

        await setup.WaitForEventStateAsync(requestId, "DELIVERED");
        Assert.Equal(1, PrometheusText.Parse(await setup.MetricsAsync()).Sum("peopleenrich_webhooks_deliveries_total", "outcome=delivered"));

        var deliveries = (await setup.RunAsync("webhooks", "deliveries", "--account", "hooks-default")).AssertSucceeded().StandardOutput;
        Assert.Contains(call.Id!, deliveries, StringComparison.Ordinal);
        Assert.Contains("delivered", deliveries, StringComparison.Ordinal);

        // The trail says who set what, but a URL's path and query (often a token) and the secret stay out of it.
        var audit = (await setup.RunAsync("audit", "list")).AssertSucceeded().StandardOutput;
        Assert.Contains("webhooks set", audit, StringComparison.Ordinal);
        Assert.Contains("webhooks secret", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-path-token", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, string.Join('\n', setup.Server.Lines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_then_succeeds_gets_the_same_webhook_id_three_times()
    {
        // Two failures of the kinds a status cannot show: a redirect (not followed) and a receiver that never answers (cut off).
        await using var receiver = await WebhookReceiver.StartAsync((int)HttpStatusCode.TemporaryRedirect, WebhookReceiver.Hang);
        await using var setup = await Setup.StartAsync(TProvider.Name, "hooks-retry");
        await setup.StartServerAsync(("Webhooks:Timeout", "00:00:02"));

        var requestId = await setup.SubmitAsync(webhookUrl: new Uri(receiver.Url, "/retry").ToString());
        await setup.WaitForCompletionAsync(requestId);
        await setup.CallsAsync(receiver, 3);
        await setup.WaitForEventStateAsync(requestId, "DELIVERED");

        // Every attempt reached the receiver (a slow machine may make the 200 itself late, and so one more attempt: at least once).
        var calls = receiver.Calls;
        Assert.Equal(["/retry", "/retry", "/retry"], calls.Take(3).Select(call => call.PathAndQuery));
        Assert.Single(calls.Select(c => c.Id).Distinct());
        // No secret was asked for before the first event: one was created for it, the one the command prints now.
        var secret = Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-retry")).AssertSucceeded().OutputLines);
        Assert.All(calls, call => Assert.True(call.IsSignedWith(secret)));
        var deliveries = (await setup.RunAsync("webhooks", "deliveries", "--account", "hooks-retry")).AssertSucceeded();
        var row = Assert.Single(deliveries.OutputLines, line => line.Contains(calls[0].Id!, StringComparison.Ordinal));
        var cells = ConsoleTable.Cells(row); // event, request, completed, url, attempts, last status, last attempt, next attempt, state
        Assert.Equal([$"{calls.Count}", "200", "", "delivered"], [cells[4], cells[5], cells[7], cells[8]]);
    }

    [Fact]
    public async Task A_410_disables_the_account_default_and_later_requests_post_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync((int)HttpStatusCode.Gone);
        await using var setup = await Setup.StartAsync(TProvider.Name, "hooks-gone");
        (await setup.RunAsync("webhooks", "set", "--account", "hooks-gone", "--url", new Uri(receiver.Url, "/gone").ToString())).AssertSucceeded();
        await setup.StartServerAsync();

        var first = await setup.SubmitAsync(webhookUrl: null);
        await setup.WaitForCompletionAsync(first);
        var call = Assert.Single(await setup.CallsAsync(receiver, 1));
        await setup.WaitForEventStateAsync(first, "DISABLED");
        var deliveries = (await setup.RunAsync("webhooks", "deliveries", "--account", "hooks-gone")).AssertSucceeded().StandardOutput;
        Assert.Contains("DISABLED since", deliveries, StringComparison.Ordinal);

        // The event is written in the transaction that completes the batch: once GET says COMPLETED, no row is no event.
        var second = await setup.SubmitAsync(webhookUrl: null);
        await setup.WaitForCompletionAsync(second);
        Assert.Equal(0, await setup.ScalarAsync("SELECT COUNT(*) FROM webhook_events WHERE batch_id = @id", second));

        // 'webhooks set' enables it again.
        (await setup.RunAsync("webhooks", "set", "--account", "hooks-gone", "--url", new Uri(receiver.Url, "/gone").ToString())).AssertSucceeded();
        var third = await setup.SubmitAsync(webhookUrl: null);
        await setup.WaitForCompletionAsync(third);
        Assert.Equal(1, await setup.ScalarAsync("SELECT COUNT(*) FROM webhook_events WHERE batch_id = @id", third));
        Assert.NotEqual(call.Id, (await setup.CallsAsync(receiver, 2))[1].Id);
    }

    [Fact]
    public async Task A_server_killed_after_completing_a_batch_delivers_its_event_after_the_restart()
    {
        // The first call never gets an answer: the server is killed while it waits, so only what was stored can deliver it.
        await using var receiver = await WebhookReceiver.StartAsync(WebhookReceiver.Hang);
        await using var setup = await Setup.StartAsync(TProvider.Name, "hooks-crash");
        await setup.StartServerAsync(("Webhooks:Timeout", "00:05:00"));

        var requestId = await setup.SubmitAsync(webhookUrl: new Uri(receiver.Url, "/crash").ToString());
        var first = Assert.Single(await setup.CallsAsync(receiver, 1));
        await setup.Server.KillAsync();
        Assert.Equal(1, await setup.ScalarAsync("SELECT COUNT(*) FROM webhook_events WHERE batch_id = @id AND state = 'PENDING'", requestId));

        await setup.Server.RestartAsync();
        var calls = await setup.CallsAsync(receiver, 2);

        Assert.Equal(first.Id, calls[1].Id);
        var secret = Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-crash")).AssertSucceeded().OutputLines);
        Assert.True(calls[1].IsSignedWith(secret));
        await setup.WaitForEventStateAsync(requestId, "DELIVERED");
        using var body = JsonDocument.Parse(calls[1].Body);
        Assert.Equal(await setup.GetBodyAsync(requestId), body.RootElement.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task After_a_rotation_calls_are_signed_with_the_new_and_the_old_secret_for_the_overlap_then_the_new_only()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var setup = await Setup.StartAsync(TProvider.Name, "hooks-rotation");
        (await setup.RunAsync("webhooks", "set", "--account", "hooks-rotation", "--url", new Uri(receiver.Url, "/hooks").ToString())).AssertSucceeded();
        var old = Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-rotation")).AssertSucceeded().OutputLines);
        var rotated = Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-rotation", "--rotate")).AssertSucceeded().OutputLines);
        Assert.NotEqual(old, rotated);
        Assert.Equal(rotated, Assert.Single((await setup.RunAsync("webhooks", "secret", "--account", "hooks-rotation")).AssertSucceeded().OutputLines));

        await setup.StartServerAsync(("Webhooks:RotationOverlap", "01:00:00"));
        await setup.WaitForCompletionAsync(await setup.SubmitAsync(webhookUrl: null));
        var during = Assert.Single(await setup.CallsAsync(receiver, 1));
        Assert.True(during.IsSignedWith(rotated), $"signature {during.Signature} does not verify with the new secret");
        Assert.True(during.IsSignedWith(old), $"signature {during.Signature} does not verify with the old secret during the overlap");
        Assert.Equal(2, during.Signature!.Split(' ').Length);

        // An hour and a minute later (the rotation's time moved back, as the clock would have moved on).
        Assert.Equal(1, await setup.ExecuteAsync("UPDATE account_webhooks SET rotated_at = rotated_at - @by WHERE rotated_at IS NOT NULL",
            (long)TimeSpan.FromMinutes(61).TotalMilliseconds));
        await setup.WaitForCompletionAsync(await setup.SubmitAsync(webhookUrl: null));
        var after = (await setup.CallsAsync(receiver, 2))[1];
        Assert.True(after.IsSignedWith(rotated), $"signature {after.Signature} does not verify with the new secret");
        Assert.False(after.IsSignedWith(old), "the old secret still signs after the overlap");
        Assert.Single(after.Signature!.Split(' '));
    }

    private const string WrongSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    /// <summary>A database, an account with credits, a person the directory knows with a phone (so a batch completes at once), and the server.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private const string LoopbackAllowed = "Network:AllowLoopbackAddresses";
        private readonly TestDatabase _database;
        private readonly Database _data;
        private readonly string _key;
        private HttpClient? _http;

        private Setup(TestDatabase database, string key)
        {
            _database = database;
            _key = key;
            _data = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build());
        }

        public ServerProcess Server { get; private set; } = null!;

        public static async Task<Setup> StartAsync(string provider, string account)
        {
            var database = await TestDatabase.CreateAsync(provider);
            var created = await ProgramRunner.RunAsync(database, "accounts", "create", "--name", account, "--credits", "1000", "--json");
            var key = JsonNode.Parse(created.AssertSucceeded().StandardOutput)!["api_key"]!.GetValue<string>();
            var folder = Directory.CreateTempSubdirectory("peopleenrich-webhooks-");
            try
            {
                var file = Path.Combine(folder.FullName, "contacts.csv");
                await File.WriteAllTextAsync(file, "firstname,lastname,domain,phone\nGrace,Hopper,navy-example.org,020 7946 0999\n");
                (await ProgramRunner.RunAsync(database, "directory", "import", file)).AssertSucceeded();
            }
            finally
            {
                folder.Delete(recursive: true);
            }

            return new Setup(database, key);
        }

        /// <summary>An admin command, with the server's network settings (its check of a URL is the server's).</summary>
        public Task<ProgramResult> RunAsync(params string[] args) =>
            ProgramRunner.RunAsync(args, ProgramRunner.EnvironmentFor(new Dictionary<string, string?>(_database.Settings) { [LoopbackAllowed] = "true" }));

        public async Task StartServerAsync(params (string Key, string Value)[] settings)
        {
            var all = new Dictionary<string, string?>
            {
                // The receiver is on loopback; private and link-local addresses stay refused.
                [LoopbackAllowed] = "true",
                ["Webhooks:FirstRetryAfter"] = "00:00:00.100",
                ["Webhooks:MaxRetryAfter"] = "00:00:00.400",
                ["Webhooks:PollInterval"] = "00:00:00.100",
                ["Webhooks:Timeout"] = "00:00:10",
            };
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }

            Server = await ProgramRunner.StartServerAsync(_database, all);
            _http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromSeconds(60) };
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", _key);
        }

        private HttpClient Http => _http is { } http && http.BaseAddress == Server.Url ? http : Reconnect();

        private HttpClient Reconnect()
        {
            _http?.Dispose();
            _http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromSeconds(60) };
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", _key);
            return _http;
        }

        public async Task<string> SubmitAsync(string? webhookUrl)
        {
            var body = Bodies.Batch(Bodies.Named("Grace", "Hopper", "navy-example.org", "contact.phones"));
            if (webhookUrl is not null)
            {
                body["webhook_url"] = webhookUrl;
            }

            using var response = await Http.PostAsync("/api/v2/people/enrich", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<JsonNode>())!["request_id"]!.GetValue<string>();
        }

        /// <summary>The receiver's first <paramref name="count"/> calls; when they do not come, the server's last lines say why.</summary>
        public async Task<IReadOnlyList<ReceivedWebhook>> CallsAsync(WebhookReceiver receiver, int count)
        {
            try
            {
                return await receiver.WaitForCallsAsync(count, Within);
            }
            catch (Xunit.Sdk.FailException exception)
            {
                throw new Xunit.Sdk.XunitException($"{exception.Message}\nThe server's last lines:\n{Server.Tail(40)}");
            }
        }

        public async Task WaitForCompletionAsync(string requestId) =>
            Assert.Equal("COMPLETED", (await ServerBatches.WaitForCompletionAsync(Http, requestId, Within))["status"]!.GetValue<string>());

        /// <summary>What /metrics answers (Prometheus text).</summary>
        public Task<string> MetricsAsync() => Http.GetStringAsync("/metrics");

        /// <summary>The GET's body, as the server wrote it.</summary>
        public async Task<string> GetBodyAsync(string requestId) => await Http.GetStringAsync($"/api/v2/people/enrich/{requestId}");

        public async Task WaitForEventStateAsync(string requestId, string state)
        {
            var deadline = DateTime.UtcNow + Within;
            while ((await DatabaseDump.RowsAsync(_data, "SELECT state FROM webhook_events WHERE batch_id = @requestId", new { requestId }))
                   .SingleOrDefault()?["state"] as string != state)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the event of {requestId} did not become {state} within {Within}");
                await Task.Delay(50);
            }
        }

        public Task<int> ExecuteAsync(string sql, long by) =>
            _data.InTransactionAsync((connection, transaction) => Dapper.SqlMapper.ExecuteAsync(connection, sql, new { by }, transaction), CancellationToken.None);

        public async Task<long> ScalarAsync(string sql, string id) =>
            Convert.ToInt64((await DatabaseDump.RowsAsync(_data, sql, new { id })).Single().Values.Single(), CultureInfo.InvariantCulture);

        public async ValueTask DisposeAsync()
        {
            _http?.Dispose();
            if (Server is not null)
            {
                await Server.DisposeAsync();
            }

            await _data.DisposeAsync();
            await _database.DisposeAsync();
        }
    }
}

public sealed class SqliteWebhookTests : WebhookTests<Sqlite>;

public sealed class PostgresWebhookTests : WebhookTests<Postgres>;
