using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Storage;
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

    [Fact]
    public async Task A_put_off_item_is_claimed_when_it_is_due_not_at_the_idle_workers_next_look()
    {
        // The app runs on a fake clock, which the test moves to the end of each wait the idle worker begins (it says so in
        // its log once the wait's timer is set): the worker's own timeline, step by step, with no real time in it. Before
        // the due time was read, its waits were 0.5, 1, 2 and 4 s, then ten minutes, past the due time.
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var source = new PutOffOnceSource(TimeSpan.FromSeconds(10), clock);
        var waits = new IdleWaits(clock);
        await using var app = await StartAsync(
            new Dictionary<string, string?>
            {
                // After the back-off's 0.5, 1, 2 and 4 s the next look is ten minutes away: only the due time can make it sooner.
                ["Workers:IdlePollInterval"] = "00:10:00",
                ["Logging:LogLevel:PeopleEnrich.Pipeline.Workers.EnrichmentWorkers"] = "Debug",
            },
            source,
            services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton<ILoggerProvider>(waits);
            });
        var account = await app.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(1));
        var database = app.Service<Database>();
        var due = DateTimeOffset.FromUnixTimeMilliseconds(await ReadOnceThereAsync<long>(database,
            "SELECT available_at FROM items WHERE batch_id = @id AND deferrals = 1 AND lease_owner IS NULL", new { id }));

        // Each wait the worker begins is waited out, but the clock never passes the due time: asked again at all, the item
        // was asked when due. A worker whose next look comes later is never asked again.
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var seen = 0;
        try
        {
            while (!source.AskedAgain.IsCompleted)
            {
                var next = waits.AfterAsync(seen, patience.Token);
                if (await Task.WhenAny(next, source.AskedAgain).WaitAsync(patience.Token) == next)
                {
                    (seen, var until) = await next;
                    var to = until < due ? until : due;
                    if (to > clock.GetUtcNow())
                    {
                        clock.SetUtcNow(to);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"put off until {due:HH:mm:ss.fff}, not asked again by then; the idle worker's waits: {waits}");
        }

        Assert.Equal(due, await source.AskedAgain);
        // Settled before the app stops (its stop would wait on the fake clock for an item in flight); the put-off cost no attempt.
        Assert.Equal(1, await ReadOnceThereAsync<long>(database, "SELECT attempts FROM items WHERE batch_id = @id AND status = 'COMPLETED'", new { id }));
    }

    /// <summary>The first row of <paramref name="sql"/>, asked again until there is one (for at most a minute).</summary>
    private static async Task<T> ReadOnceThereAsync<T>(Database database, string sql, object parameters) where T : struct
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            await using (var connection = await database.OpenAsync(patience.Token))
            {
                if (await connection.QuerySingleOrDefaultAsync<T?>(new CommandDefinition(sql, parameters, cancellationToken: patience.Token)) is { } value)
                {
                    return value;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), patience.Token);
        }
    }

    private static Task<TestApp> StartAsync(Dictionary<string, string?> settings, IEnrichmentSource only, Action<IServiceCollection>? more = null) =>
        TestApp.StartAsync(TProvider.Name, settings, services =>
        {
            services.RemoveAll<IEnrichmentSource>();
            services.AddSingleton(only);
            more?.Invoke(services);
        });

    /// <summary>Puts the person off for <paramref name="retryAfter"/> (greylisting, say), then finds nothing; notes the clock's time of the second ask.</summary>
    private sealed class PutOffOnceSource(TimeSpan retryAfter, TimeProvider clock) : IEnrichmentSource
    {
        private readonly TaskCompletionSource<DateTimeOffset> _askedAgain = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _asked;

        public Task<DateTimeOffset> AskedAgain => _askedAgain.Task;

        public string Name => "puts-off-once";

        public EnrichFields Provides => EnrichFields.Emails;

        public Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _asked) == 1)
            {
                throw new SourceDeferredException(retryAfter, "greylisted");
            }

            _askedAgain.TrySetResult(clock.GetUtcNow());
            return Task.FromResult(SourceFindings.Nothing);
        }
    }

    /// <summary>The idle waits the workers log, each as the clock's time it ends at (the clock moves only when the test moves it).</summary>
    private sealed class IdleWaits(TimeProvider clock) : ILoggerProvider
    {
        private readonly List<DateTimeOffset> _ends = [];
        private readonly List<string> _said = [];
        private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>How many waits were logged, and the end of the latest, once more than <paramref name="seen"/> were.</summary>
        public async Task<(int Count, DateTimeOffset Until)> AfterAsync(int seen, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task added;
                lock (_ends)
                {
                    if (_ends.Count > seen)
                    {
                        return (_ends.Count, _ends[^1]);
                    }

                    added = _added.Task;
                }

                await added.WaitAsync(cancellationToken);
            }
        }

        public override string ToString()
        {
            lock (_ends)
            {
                return string.Join(", ", _said);
            }
        }

        public ILogger CreateLogger(string categoryName) => categoryName == typeof(EnrichmentWorkers).FullName ? new Logger(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private void Add(TimeSpan wait)
        {
            lock (_ends)
            {
                _ends.Add(clock.GetUtcNow() + wait);
                _said.Add($"{wait.TotalSeconds} s at {clock.GetUtcNow():HH:mm:ss.fff}");
                Interlocked.Exchange(ref _added, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }

        private sealed class Logger(IdleWaits waits) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values
                    && values.Any(value => value is { Key: "{OriginalFormat}", Value: string format } && format.StartsWith("No work to claim", StringComparison.Ordinal))
                    && values.FirstOrDefault(value => value.Key == "Wait").Value is TimeSpan wait)
                {
                    waits.Add(wait);
                }
            }
        }
    }

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
