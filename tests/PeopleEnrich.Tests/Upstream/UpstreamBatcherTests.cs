using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Answers;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// The batcher against a scripted upstream over real HTTP, with the batch window on a fake clock: what
/// joins a batch does not depend on how fast this machine is.
/// </summary>
public sealed class UpstreamBatcherTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ScriptedUpstream _upstream = null!;
    private ServiceProvider _services = null!;
    private readonly FakeTimeProvider _time = new();

    public async ValueTask InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _services = new ServiceCollection().AddHttpClient("upstream", http => http.BaseAddress = new Uri(_upstream.BaseUrl + "/")).Services.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task People_asked_at_once_from_several_threads_go_in_one_submission_and_each_caller_gets_its_own_answer()
    {
        using var batcher = Batcher();
        var people = Enumerable.Range(0, 5).Select(i => Person($"Ada{i}", $"King{i}", $"engines{i}.com")).ToList();

        var answers = people.Select(person => Task.Run(() => batcher.AskAsync(person, CancellationToken.None))).ToList();
        await WaitUntilAsync(() => batcher.Lingering == people.Count);
        Assert.Empty(_upstream.Submissions); // the window is still open
        _time.Advance(Window);
        var results = await Task.WhenAll(answers).WaitAsync(Patience);

        var submission = Assert.Single(_upstream.Submissions);
        Assert.Equal(people.Select(p => p.Person.FirstName).Order(), submission.People.Select(p => p["firstname"]!.GetValue<string>()).Order());
        for (var i = 0; i < people.Count; i++)
        {
            var email = Assert.Single(Reported(results[i]).Emails);
            Assert.Equal($"ada{i}.king{i}@engines{i}.com", email.Address);
            Assert.Equal(_time.GetUtcNow(), results[i]!.ReceivedAt); // by the clock it was given
        }
    }

    [Fact]
    public async Task A_batch_leaves_once_it_holds_100_people_and_the_rest_wait_for_the_window()
    {
        using var batcher = Batcher();
        var answers = Enumerable.Range(0, 150).Select(i => batcher.AskAsync(Person($"Ada{i}", "King", "engines.com"), CancellationToken.None)).ToList();

        // The first hundred leave at once, with no time passing.
        var first = await Task.WhenAll(answers.Take(100)).WaitAsync(Patience);
        Assert.Equal(100, Assert.Single(_upstream.Submissions).People.Count);
        Assert.Equal(50, batcher.Lingering);
        Assert.All(answers.Skip(100), answer => Assert.False(answer.IsCompleted));

        _time.Advance(Window);
        var rest = await Task.WhenAll(answers.Skip(100)).WaitAsync(Patience);
        Assert.Equal([100, 50], _upstream.Submissions.Select(s => s.People.Count));
        Assert.Equal(
            Enumerable.Range(0, 150).Select(i => $"ada{i}.king@engines.com"),
            first.Concat(rest).Select(result => Assert.Single(Reported(result).Emails).Address));
    }

    [Fact]
    public async Task A_caller_that_gave_up_before_the_batch_left_is_not_submitted()
    {
        using var batcher = Batcher();
        using var givingUp = new CancellationTokenSource();
        var staying = batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None);
        var leaving = batcher.AskAsync(Person("Charles", "Babbage", "engines.com"), givingUp.Token);

        await givingUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        _time.Advance(Window);
        await staying.WaitAsync(Patience);

        Assert.Equal(["Ada"], Assert.Single(_upstream.Submissions).People.Select(p => p["firstname"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Items_still_processing_are_polled_again_and_held_polls_are_asked_for()
    {
        _upstream.ProcessingPolls = 2;
        using var batcher = Batcher(TimeProvider.System, pollInterval: TimeSpan.FromSeconds(1), batchWindow: TimeSpan.Zero);

        var result = await batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None).WaitAsync(Patience);

        Reported(result);
        Assert.Equal(["wait=1", "wait=1", "wait=1"], _upstream.PreferHeaders);
    }

    [Fact]
    public async Task A_reply_is_stamped_with_when_its_answer_came_not_when_the_person_was_submitted()
    {
        _upstream.ProcessingPolls = 1;
        using var batcher = Batcher(pollInterval: TimeSpan.FromSeconds(1));
        var asked = batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None);
        _time.Advance(Window);
        var windowClosed = _time.GetUtcNow();

        // The second poll waits out the poll interval on the fake clock: move it on until the answer is in.
        var deadline = DateTime.UtcNow + Patience;
        while (!asked.IsCompleted && DateTime.UtcNow < deadline)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        var reply = await asked.WaitAsync(Patience);
        Assert.Equal(2, _upstream.PreferHeaders.Count);
        Assert.InRange(reply!.ReceivedAt, windowClosed + TimeSpan.FromSeconds(1), _time.GetUtcNow());
    }

    [Fact]
    public async Task An_upstream_error_tells_every_caller_of_the_batch_why_there_is_no_answer_and_the_next_batch_is_asked_anew()
    {
        _upstream.ReplyToNextSubmissions(new ScriptedReply(500));
        using var batcher = Batcher();
        var refused = new[] { batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None), batcher.AskAsync(Person("Charles", "Babbage", "engines.com"), CancellationToken.None) };
        _time.Advance(Window);
        Assert.All(await Task.WhenAll(refused).WaitAsync(Patience), reply =>
        {
            var silence = Assert.IsType<UpstreamAnswer.NotGiven>(reply.Answer);
            Assert.StartsWith("answered 500", silence.Why, StringComparison.Ordinal);
            Assert.False(silence.WillLast);
        });

        var next = batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None);
        _time.Advance(Window);
        Reported(await next.WaitAsync(Patience));
        Assert.Equal([2, 1], _upstream.Submissions.Select(s => s.People.Count));
    }

    [Fact]
    public async Task An_upstream_refusing_our_key_is_said_to_last_so_that_nobody_asks_again_soon()
    {
        _upstream.ReplyToNextSubmissions(new ScriptedReply(401));
        using var batcher = Batcher();
        var refused = batcher.AskAsync(Person("Ada", "King", "engines.com"), CancellationToken.None);
        _time.Advance(Window);

        var silence = Assert.IsType<UpstreamAnswer.NotGiven>((await refused.WaitAsync(Patience)).Answer);
        Assert.StartsWith("answered 401", silence.Why, StringComparison.Ordinal);
        Assert.True(silence.WillLast);
    }

    private UpstreamBatcher Batcher(TimeProvider? time = null, TimeSpan? pollInterval = null, TimeSpan? batchWindow = null)
    {
        var options = new UpstreamOptions
        {
            Name = "scripted",
            BaseUrl = _upstream.BaseUrl.ToString(),
            ApiKey = "pe_scripted_key_0123456789",
            PollInterval = pollInterval ?? TimeSpan.FromMilliseconds(100),
            BatchWindow = batchWindow ?? Window,
        };
        var adapter = new ContractUpstreamAdapter(new UpstreamChannel(_services.GetRequiredService<IHttpClientFactory>(), "upstream", options));
        return new UpstreamBatcher(adapter, options, time ?? _time, NullLogger<UpstreamBatcher>.Instance);
    }

    private static UpstreamAsk Person(string first, string last, string domain) => new(new Person(first, last, domain, null, null), EnrichFields.Emails);

    /// <summary>The report in a reply: the item was COMPLETED.</summary>
    private static UpstreamAnswer.Reported Reported(UpstreamReply reply) => Assert.IsType<UpstreamAnswer.Reported>(reply.Answer);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(10);
        }
    }
}
