extern alias SimulatedWorld;

using System.Globalization;
using System.Text.Json.Nodes;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Cluster;

/// <summary>
/// Three server processes (default role) on one PostgreSQL, against one simulated world: the politeness and the sending
/// budget are the deployment's, not each process's. Eight domains share one mail host (a hosting provider's), two have
/// their own; every domain's people are submitted to every process, so that the shared host is wanted by all three at
/// once (each process alone would open its own two sessions there).
/// </summary>
public sealed class PostgresSharedPolitenessTests
{
    private const string Key = "pe_politeness_test_key_0123456789";
    private const int Processes = 3;
    private const string SharedHost = "mx.hosting.test";

    private static readonly string[] SharedDomains = ["alpha.test", "beta.test", "gamma.test", "delta.test", "eta.test", "theta.test", "iota.test", "kappa.test"];
    private static readonly string[] OwnDomains = ["epsilon.test", "zeta.test"];
    private static readonly string[] Domains = [.. SharedDomains, .. OwnDomains];

    private static readonly (string First, string Last)[] Staff =
        [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Barbara", "Liskov")];

    // 100 ms a reply: a session lasts most of a second, long enough for the processes' sessions to meet.
    private static readonly WorldDescription World = new()
    {
        Domains = [.. Domains.Select(domain => new DomainDescription
        {
            Name = domain,
            Mx = [new MxDescription { Host = SharedDomains.Contains(domain) ? SharedHost : "mx." + domain }],
            ReplyDelayMs = 100,
            Mailboxes = [.. Staff.Select(p => $"{p.First}.{p.Last}".ToLowerInvariant())],
        })],
    };

    [Fact]
    public async Task Three_processes_keep_every_host_to_two_sessions_and_ask_each_domain_probe_once()
    {
        await using var deployment = await Deployment.StartAsync(new Dictionary<string, string?> { ["Smtp:MaxSessionsPerHost"] = "2" });

        var results = await deployment.EnrichEveryoneAsync();

        foreach (var (domain, person, result) in results)
        {
            var expected = $"{person.First}.{person.Last}@{domain}".ToLowerInvariant();
            Assert.True(EmailsOf(result).Contains((expected, "DELIVERABLE")), $"{expected}: {result.ToJsonString()}");
        }

        foreach (var host in deployment.World.Hosts)
        {
            Assert.All(host.SessionLog, session => Assert.True(session.ActiveAtStart <= 2, $"{host.Name}: {session}"));
        }

        // The shared host was wanted by eight domains' lanes at once: the limit was met, not merely never approached.
        Assert.Equal(2, deployment.World.Host(SharedHost).PeakActiveSessions);
        foreach (var domain in Domains)
        {
            Assert.True(ProbesAsked(deployment.World, domain) == 1, $"{domain} was probed {ProbesAsked(deployment.World, domain)} times");
        }

        Assert.Equal(0, deployment.World.DataAttempts);
    }

    [Fact]
    public async Task Three_processes_never_send_more_RCPT_commands_in_a_minute_than_the_budget()
    {
        const int budget = 10;
        await using var deployment = await Deployment.StartAsync(new Dictionary<string, string?>
        {
            ["Smtp:MaxRcptPerMinute"] = budget.ToString(CultureInfo.InvariantCulture),
            // Put off twice, a second apart, then answered with what could not be checked.
            ["Waterfall:OutageRetryAfter:0"] = "00:00:01",
            ["Waterfall:OutageRetryAfter:1"] = "00:00:01",
        });

        var results = await deployment.EnrichEveryoneAsync();

        // 40 people and 10 probes want more than the budget: some people were put off, and their answer says why.
        var stopped = results.Where(r => r.Result["error"]?.GetValue<string>() is { } error && error.Contains("sending budget", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(stopped);
        Assert.All(stopped, r => Assert.DoesNotContain(EmailsOf(r.Result), e => e.Status == "DELIVERABLE"));

        var sent = deployment.World.Hosts.SelectMany(h => h.Transcript.Lines)
            .Where(l => l.Direction == Direction.Received && l.Text.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase))
            .Select(l => l.At).Order().ToList();
        Assert.True(sent.Count >= budget, $"only {sent.Count} RCPT commands were sent: the budget was never reached");
        for (var i = 0; i < sent.Count; i++)
        {
            var inMinute = sent.Skip(i).TakeWhile(at => at - sent[i] < TimeSpan.FromMinutes(1)).Count();
            Assert.True(inMinute <= budget, $"{inMinute} RCPT commands in the minute from {sent[i]:O}");
        }
    }

    /// <summary>RCPT commands for the domain's made-up recipient (x and 15 letters or digits), on whichever host.</summary>
    private static int ProbesAsked(World world, string domain) =>
        world.HostsOf(domain).SelectMany(h => h.Transcript.Lines).Count(l =>
            l.Direction == Direction.Received && l.Text.StartsWith("RCPT TO:<x", StringComparison.OrdinalIgnoreCase)
            && l.Text.EndsWith($"@{domain}>", StringComparison.OrdinalIgnoreCase) && l.Text.Length == "RCPT TO:<x".Length + 15 + domain.Length + 2);

    private sealed class Deployment(World world, TestDatabase database, IReadOnlyList<ServerProcess> servers) : IAsyncDisposable
    {
        public World World => world;

        public static async Task<Deployment> StartAsync(IReadOnlyDictionary<string, string?> extra)
        {
            PostgresTestDatabase.RequireServer();
            var world = await World.StartAsync(PostgresSharedPolitenessTests.World);
            var database = await TestDatabase.CreateAsync(Postgres.Name);
            var settings = new Dictionary<string, string?>(WorldApp.SettingsFor(world))
            {
                ["Bootstrap:ApiKey"] = Key,
                ["Bootstrap:Credits"] = "100000",
                ["RateLimit:PermitsPerSecond"] = "1000",
                ["Workers:Concurrency"] = "16",
            };
            foreach (var (key, value) in extra)
            {
                settings[key] = value;
            }

            var starting = Enumerable.Range(0, Processes).Select(_ => ProgramRunner.StartServerAsync(database, settings)).ToList();
            try
            {
                return new Deployment(world, database, await Task.WhenAll(starting));
            }
            catch
            {
                foreach (var started in starting.Where(s => s.IsCompletedSuccessfully))
                {
                    await started.Result.DisposeAsync();
                }

                await database.DisposeAsync();
                await world.DisposeAsync();
                throw;
            }
        }

        /// <summary>Every domain's staff, split over one batch per process, each batch holding people of every domain; one result per person.</summary>
        public async Task<IReadOnlyList<(string Domain, (string First, string Last) Person, JsonNode Result)>> EnrichEveryoneAsync()
        {
            var everyone = Domains.SelectMany(domain => Staff.Select(person => (Domain: domain, Person: person))).ToList();
            var batches = everyone.Select((p, i) => (p, i)).GroupBy(x => x.i % servers.Count, x => x.p).ToList();
            var accounts = servers.Select(Account).ToList();
            var submitted = new List<(TestAccount Account, string RequestId, List<(string Domain, (string First, string Last) Person)> People)>();
            foreach (var batch in batches)
            {
                var people = batch.ToList();
                var body = new { requests = people.Select(p => Query(p.Person.First, p.Person.Last, p.Domain, null, Emails)).ToArray() };
                submitted.Add((accounts[batch.Key], await accounts[batch.Key].SubmitAcceptedAsync(body), people));
            }

            var results = new List<(string, (string, string), JsonNode)>();
            foreach (var (account, requestId, people) in submitted)
            {
                var batch = await account.WaitForCompletionAsync(requestId);
                Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
                var answers = batch["results"]!.AsArray();
                Assert.Equal(people.Count, answers.Count);
                results.AddRange(people.Zip(answers, (p, r) => (p.Domain, p.Person, r!)));
            }

            return results;
        }

        private static TestAccount Account(ServerProcess server)
        {
            var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Key);
            return new TestAccount("default", Key, http);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            await database.DisposeAsync();
            await world.DisposeAsync();
        }
    }
}
