using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>The workers inside the real app, with a source of the test's own in the waterfall.</summary>
public abstract class WorkerTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task Items_of_one_batch_are_processed_side_by_side()
    {
        // Every item waits inside the source until three are in at once; one after another would never get there.
        var rendezvous = new RendezvousSource(expected: 3);
        await using var app = await StartAsync(new Dictionary<string, string?> { ["Workers:Concurrency"] = "4" }, rendezvous);
        var account = await app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(3));

        var batch = await account.WaitForCompletionAsync(id);

        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        Assert.True(rendezvous.MetAll, "the three items were never inside the waterfall at the same time");
    }

    [Fact]
    public async Task An_item_whose_every_source_keeps_failing_is_failed_with_the_reason_and_costs_nothing()
    {
        await using var app = await StartAsync(
            new Dictionary<string, string?> { ["Workers:MaxAttempts"] = "3", ["Workers:RetryDelay"] = "00:00:00.050" },
            new BrokenSource());
        var account = await app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(2, "contact.emails", "contact.phones"));

        var batch = await account.WaitForCompletionAsync(id);

        Assert.Equal("FAILED", batch["status"]!.GetValue<string>());
        foreach (var item in batch["results"]!.AsArray())
        {
            Assert.Equal("FAILED", item!["status"]!.GetValue<string>());
            Assert.Equal("every source failed: the source broken failed unexpectedly (gave up after 3 attempts)", item["error"]!.GetValue<string>());
            Assert.Null(item["emails"]);
        }

        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    private static Task<TestApp> StartAsync(Dictionary<string, string?> settings, IEnrichmentSource only) =>
        TestApp.StartAsync(TProvider.Name, settings, services =>
        {
            services.RemoveAll<IEnrichmentSource>();
            services.AddSingleton(only);
        });

    private sealed class RendezvousSource(int expected) : IEnrichmentSource
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public bool MetAll => _all.Task.IsCompletedSuccessfully;

        public string Name => "rendezvous";

        public EnrichFields Provides => EnrichFields.Emails;

        public async Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _arrived) == expected)
            {
                _all.TrySetResult();
            }

            // Bounded: if they never meet, the items still complete and the assertion says why.
            await Task.WhenAny(_all.Task, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
            return SourceFindings.Nothing;
        }
    }

    private sealed class BrokenSource : IEnrichmentSource
    {
        public string Name => "broken";

        public EnrichFields Provides => EnrichFields.Emails | EnrichFields.Phones;

        public Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken) =>
            throw new HttpRequestException("the upstream answered 503");
    }
}

public sealed class SqliteWorkerTests : WorkerTests<Sqlite>;

public sealed class PostgresWorkerTests : WorkerTests<Postgres>;
