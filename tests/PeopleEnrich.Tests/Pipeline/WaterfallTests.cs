using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>The waterfall's rules, with sources that are test doubles (the seam itself is under test).</summary>
public sealed class WaterfallTests
{
    private static readonly Person Ada = new("Ada", "Lovelace", "analytical.com", null, null);

    [Fact]
    public async Task Sources_are_asked_in_order_only_for_what_is_still_missing()
    {
        var phones = ScriptedSource.Returning("phones", EnrichFields.Phones, new SourceFindings([], [new PhoneEvidence("+33612345678", "FR", "phones")]));
        var both = ScriptedSource.Returning("both", EnrichFields.Emails | EnrichFields.Phones, SourceFindings.Nothing);
        var result = await Run([phones, both], EnrichFields.Emails | EnrichFields.Phones);

        var completed = Assert.IsType<WaterfallResult.Completed>(result);
        Assert.Equal(["+33612345678"], completed.Outcome.Phones.Select(p => p.Number));
        Assert.Equal([EnrichFields.Phones], phones.Asked);
        Assert.Equal([EnrichFields.Emails], both.Asked); // phones were found: only emails are still missing
    }

    [Fact]
    public async Task The_waterfall_stops_once_the_asked_fields_are_found()
    {
        var first = ScriptedSource.Returning("first", EnrichFields.Phones, new SourceFindings([], [new PhoneEvidence("+442079460018", "GB", "first")]));
        var second = ScriptedSource.Returning("second", EnrichFields.Phones, SourceFindings.Nothing);
        await Run([first, second], EnrichFields.Phones);
        Assert.Empty(second.Asked);
    }

    [Fact]
    public async Task A_listed_email_with_no_verdict_does_not_stop_the_search_for_a_verified_one()
    {
        var listed = ScriptedSource.Returning("directory", EnrichFields.Emails, new SourceFindings([new EmailEvidence("ada@analytical.com", "directory", EmailObservation.Listed)], []));
        var next = ScriptedSource.Returning("next", EnrichFields.Emails, SourceFindings.Nothing);
        var result = Assert.IsType<WaterfallResult.Completed>(await Run([listed, next], EnrichFields.Emails));
        Assert.Equal([EnrichFields.Emails], next.Asked);
        Assert.Equal("UNKNOWN", Assert.Single(result.Outcome.Emails).Status);
        Assert.Equal("ada@analytical.com", result.Outcome.MostProbableEmail);
        Assert.Equal(0, result.Outcome.ChargeFor(EnrichFields.Emails)); // UNKNOWN is free
    }

    [Fact]
    public async Task A_failing_source_is_passed_over_and_the_next_one_answers()
    {
        var broken = ScriptedSource.Throwing("broken", EnrichFields.Phones, new HttpRequestException("upstream is down"));
        var working = ScriptedSource.Returning("working", EnrichFields.Phones, new SourceFindings([], [new PhoneEvidence("+12025550143", "US", "working")]));
        var result = Assert.IsType<WaterfallResult.Completed>(await Run([broken, working], EnrichFields.Phones));
        Assert.Single(result.Outcome.Phones);
        Assert.Equal(10, result.Outcome.ChargeFor(EnrichFields.Phones));
        Assert.False(result.Cacheable); // an outage's gap must not be reused for 30 days
    }

    [Fact]
    public async Task A_source_that_times_out_is_passed_over()
    {
        var slow = new ScriptedSource("slow", EnrichFields.Phones, async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return SourceFindings.Nothing;
        });
        var working = ScriptedSource.Returning("working", EnrichFields.Phones, new SourceFindings([], [new PhoneEvidence("+12025550143", "US", "working")]));
        var result = await Run([slow, working], EnrichFields.Phones, TimeSpan.FromMilliseconds(100));
        Assert.Single(Assert.IsType<WaterfallResult.Completed>(result).Outcome.Phones);
    }

    [Fact]
    public async Task A_source_that_bounds_its_own_time_is_not_cut_off_by_the_waterfalls_clock()
    {
        // Say, a person waiting in their domain's SMTP lane behind others: not the source's time.
        var queued = new ScriptedSource("email-finder", EnrichFields.Emails, async token =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), token);
            return new SourceFindings([new EmailEvidence("ada@analytical.com", "email-finder", EmailObservation.MailboxAccepted)], []);
        }) { BoundsItsOwnTime = true };
        var result = await Run([queued], EnrichFields.Emails, TimeSpan.FromMilliseconds(100));
        Assert.Equal("DELIVERABLE", Assert.Single(Assert.IsType<WaterfallResult.Completed>(result).Outcome.Emails).Status);
    }

    [Fact]
    public async Task The_item_fails_only_when_every_source_asked_erred()
    {
        var a = ScriptedSource.Throwing("a", EnrichFields.Emails, new InvalidOperationException("a is broken"));
        var b = ScriptedSource.Throwing("b", EnrichFields.Emails, new InvalidOperationException("b is broken"));
        var failed = Assert.IsType<WaterfallResult.AllSourcesFailed>(await Run([a, b], EnrichFields.Emails));
        // Each named, in plain words: an exception's own words are ours (the log's), not the caller's.
        Assert.Equal("every source failed: the source a failed unexpectedly; the source b failed unexpectedly", failed.Error);
    }

    [Fact]
    public async Task Finding_nothing_is_a_result_not_a_failure()
    {
        var empty = ScriptedSource.Returning("empty", EnrichFields.Emails | EnrichFields.Phones, SourceFindings.Nothing);
        var broken = ScriptedSource.Throwing("broken", EnrichFields.Emails, new InvalidOperationException("down"));
        // Once its outage retries are spent (before, the item is put off: see below).
        var result = Assert.IsType<WaterfallResult.Completed>(await Run([empty, broken], EnrichFields.Emails | EnrichFields.Phones, outageRetries: 2));
        Assert.Empty(result.Outcome.Emails);
        Assert.Empty(result.Outcome.Phones);
        Assert.Null(result.Outcome.MostProbableEmail);
        Assert.Equal("Could not check: the source broken failed unexpectedly (retried 2 times)", result.Outcome.Error); // never a silent "nothing found"
        Assert.False(result.Cacheable);
    }

    [Fact]
    public async Task A_gap_in_what_is_still_missing_puts_the_item_off_on_the_outage_schedule_then_the_answer_names_it()
    {
        var empty = ScriptedSource.Returning("directory", EnrichFields.Emails | EnrichFields.Phones, SourceFindings.Nothing);
        var dns = ScriptedSource.Returning("website", EnrichFields.Emails | EnrichFields.Phones, SourceFindings.CouldNotCheck("DNS did not answer for analytical.com"));
        var mail = ScriptedSource.Returning("email-finder", EnrichFields.Emails, SourceFindings.CouldNotCheck("the mail servers of analytical.com did not answer"));
        var sources = new IEnrichmentSource[] { empty, dns, mail };
        var schedule = new[] { TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2) };

        for (var retry = 0; retry < schedule.Length; retry++)
        {
            var putOff = Assert.IsType<WaterfallResult.OutageDeferred>(await Run(sources, EnrichFields.Emails, outageRetries: retry));
            Assert.Equal(schedule[retry], putOff.RetryAfter);
            Assert.Contains("the mail servers of analytical.com did not answer", putOff.Reason);
        }

        var completed = Assert.IsType<WaterfallResult.Completed>(await Run(sources, EnrichFields.Emails, outageRetries: schedule.Length));
        Assert.Equal("Could not check: DNS did not answer for analytical.com; the mail servers of analytical.com did not answer", completed.Outcome.Error);
        Assert.False(completed.Cacheable);
        Assert.Equal(0, completed.Outcome.ChargeFor(EnrichFields.Emails));
    }

    [Fact]
    public async Task A_gap_that_retrying_cannot_mend_is_named_at_once()
    {
        var empty = ScriptedSource.Returning("directory", EnrichFields.Emails, SourceFindings.Nothing);
        var refused = ScriptedSource.Returning("email-finder", EnrichFields.Emails,
            SourceFindings.CouldNotCheck("the mail server mx.analytical.com refused us: 554 5.7.1 blocked", retryable: false));
        var completed = Assert.IsType<WaterfallResult.Completed>(await Run([empty, refused], EnrichFields.Emails));
        Assert.Equal("Could not check: the mail server mx.analytical.com refused us: 554 5.7.1 blocked", completed.Outcome.Error);
        Assert.False(completed.Cacheable);
    }

    [Fact]
    public async Task A_gap_in_a_field_another_source_then_found_leaves_the_answer_whole_but_not_cached()
    {
        var down = ScriptedSource.Returning("website", EnrichFields.Phones, SourceFindings.CouldNotCheck("the website of analytical.com did not answer"));
        var phones = ScriptedSource.Returning("phones", EnrichFields.Phones, new SourceFindings([], [new PhoneEvidence("+12025550143", "US", "phones")]));
        var completed = Assert.IsType<WaterfallResult.Completed>(await Run([down, phones], EnrichFields.Phones));
        Assert.Null(completed.Outcome.Error);
        Assert.Single(completed.Outcome.Phones);
        Assert.False(completed.Cacheable);
    }

    [Fact]
    public async Task An_item_no_source_could_answer_fails_and_is_retried_only_when_that_may_help()
    {
        var dns = ScriptedSource.Returning("email-finder", EnrichFields.Emails, SourceFindings.CouldNotCheck("DNS did not answer for analytical.com"));
        var failed = Assert.IsType<WaterfallResult.AllSourcesFailed>(await Run([dns], EnrichFields.Emails));
        Assert.Equal("every source failed: DNS did not answer for analytical.com", failed.Error);
        Assert.True(failed.Retryable);

        var refused = ScriptedSource.Returning("email-finder", EnrichFields.Emails,
            SourceFindings.CouldNotCheck("the mail server mx.analytical.com refused us: 554 5.7.1 blocked", retryable: false));
        Assert.False(Assert.IsType<WaterfallResult.AllSourcesFailed>(await Run([refused], EnrichFields.Emails)).Retryable);
    }

    [Fact]
    public async Task A_source_that_could_not_look_does_not_fail_the_item_but_its_gap_is_named_and_not_cached()
    {
        var empty = ScriptedSource.Returning("empty", EnrichFields.Emails, SourceFindings.Nothing);
        var down = ScriptedSource.Returning("upstream", EnrichFields.Emails,
            SourceFindings.CouldNotCheck("the upstream provider peer did not answer: it answered 401", retryable: false));
        var result = Assert.IsType<WaterfallResult.Completed>(await Run([empty, down], EnrichFields.Emails));
        Assert.False(result.Cacheable);
        Assert.Equal("Could not check: the upstream provider peer did not answer: it answered 401", result.Outcome.Error);
    }

    [Fact]
    public async Task An_answer_is_cacheable_when_every_source_asked_answered()
    {
        var empty = ScriptedSource.Returning("empty", EnrichFields.Emails, SourceFindings.Nothing);
        var result = Assert.IsType<WaterfallResult.Completed>(await Run([empty], EnrichFields.Emails));
        Assert.True(result.Cacheable); // "nobody found" is an answer worth keeping too
    }

    [Fact]
    public void The_verdict_never_makes_an_invalid_address_the_most_probable_and_dedupes_by_case()
    {
        var outcome = Verdict.Decide(
            [new EmailEvidence("Ada@Analytical.com", "x", EmailObservation.Listed), new EmailEvidence("ada@analytical.com", "y", EmailObservation.Listed)],
            [new PhoneEvidence("+12025550143", "US", "x"), new PhoneEvidence("+12025550143", "US", "y")]);
        Assert.Equal("ada@analytical.com", Assert.Single(outcome.Emails).Email);
        Assert.Single(outcome.Phones);
    }

    private static Task<WaterfallResult> Run(IEnumerable<IEnrichmentSource> sources, EnrichFields asked, TimeSpan? timeout = null, int outageRetries = 0) =>
        new SourceWaterfall(sources, Options.Create(new WaterfallOptions { SourceTimeout = timeout ?? TimeSpan.FromSeconds(5) }), NullLogger<SourceWaterfall>.Instance)
            .RunAsync(Ada, asked, CancellationToken.None, outageRetries: outageRetries);

    private sealed class ScriptedSource(string name, EnrichFields provides, Func<CancellationToken, Task<SourceFindings>> answer) : IEnrichmentSource
    {
        public static ScriptedSource Returning(string name, EnrichFields provides, SourceFindings findings) =>
            new(name, provides, _ => Task.FromResult(findings));

        public static ScriptedSource Throwing(string name, EnrichFields provides, Exception exception) =>
            new(name, provides, _ => Task.FromException<SourceFindings>(exception));

        public List<EnrichFields> Asked { get; } = [];

        public bool BoundsItsOwnTime { get; init; }

        public string Name => name;

        public EnrichFields Provides => provides;

        public Task<SourceFindings> FindAsync(Person person, EnrichFields wanted, SourceContext context, CancellationToken cancellationToken)
        {
            Asked.Add(wanted);
            return answer(cancellationToken);
        }
    }
}
