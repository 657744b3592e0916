using System.Diagnostics;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Waterfall;

public sealed class WaterfallOptions
{
    private static readonly TimeSpan[] DefaultOutageRetryAfter = [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)];

    /// <summary>How long one source may take for one person before the next source is tried (unless it bounds its own time).</summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When an item is asked again after a source could not check something it still misses (a time-out, DNS or a
    /// server that did not answer): one wait per retry, after which the answer says what could not be checked.
    /// Null means the default (30 s, then 2 min): the configuration binder adds to a list that has items already.
    /// </summary>
    public List<TimeSpan>? OutageRetryAfter { get; set; }

    public IReadOnlyList<TimeSpan> OutageRetrySchedule => (IReadOnlyList<TimeSpan>?)OutageRetryAfter ?? DefaultOutageRetryAfter;

    public static bool IsValid(WaterfallOptions options) =>
        options.SourceTimeout > TimeSpan.Zero && options.OutageRetrySchedule.All(wait => wait > TimeSpan.Zero);
}

public abstract record WaterfallResult
{
    /// <param name="Cacheable">Every source asked answered: the outcome may be reused (an outage's gap must not be).</param>
    public sealed record Completed(EnrichmentOutcome Outcome, bool Cacheable = false) : WaterfallResult;

    /// <summary>
    /// No source asked could answer anything (each erred, timed out or could not check): the item is retried as a
    /// failed attempt when <paramref name="Retryable"/>, and FAILED once the attempts are spent, or at once when not.
    /// </summary>
    public sealed record AllSourcesFailed(string Error, bool Retryable = true) : WaterfallResult;

    /// <summary>A source asked to be asked again later (greylisting): the item waits, no worker does.</summary>
    public sealed record Deferred(TimeSpan RetryAfter, string Reason) : WaterfallResult;

    /// <summary>
    /// A source could not check something the item still misses, and that may pass (a time-out, an outage): the
    /// item waits, no worker does, and the whole waterfall is asked again (a failure of ours it is not).
    /// </summary>
    public sealed record OutageDeferred(TimeSpan RetryAfter, string Reason) : WaterfallResult;
}

/// <summary>
/// Asks each source, in registration order, only for what is still missing, and stops once the asked
/// fields are found. A source's failure, time-out or "could not check" is a gap: the next source is tried,
/// and a gap left in what is still missing is never an empty answer. While it may pass and retries are
/// left, the item is put off (<see cref="WaterfallOptions.OutageRetryAfter"/>); then the answer names it.
/// </summary>
/// <remarks>
/// An address a caller reported to bounce (<see cref="IKnownBounces"/>) is INVALID whichever source gave it, from the moment
/// that source gave it: the sources after it are asked for the email still missing.
/// </remarks>
public sealed class SourceWaterfall(IEnumerable<IEnrichmentSource> sources, IOptions<WaterfallOptions> options, ILogger<SourceWaterfall> logger, IKnownBounces? bounces = null)
{
    private readonly IReadOnlyList<IEnrichmentSource> _sources = sources.ToList();
    private readonly IKnownBounces _bounces = bounces ?? NoKnownBounces.Instance;

    /// <param name="deferrals">How often the item was put off for greylisting (the sources' own budget).</param>
    /// <param name="outageRetries">How often the item was put off after a gap (this waterfall's budget).</param>
    /// <param name="failedAttempts">How often an attempt at the item failed before this one (<see cref="SourceContext.AskingAgain"/> when either is not zero).</param>
    public async Task<WaterfallResult> RunAsync(Person person, EnrichFields asked, CancellationToken cancellationToken, int deferrals = 0, int outageRetries = 0, int failedAttempts = 0)
    {
        var emails = new List<EmailEvidence>();
        var phones = new List<PhoneEvidence>();
        var outcome = Verdict.Decide(emails, phones);
        var gaps = new List<Gap>();
        var asksMade = 0;
        var unanswered = 0;

        foreach (var source in _sources)
        {
            var missing = asked & ~outcome.Found;
            if (missing == EnrichFields.None)
            {
                break;
            }

            var wanted = missing & source.Provides;
            if (wanted == EnrichFields.None)
            {
                continue;
            }

            asksMade++;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (!source.BoundsItsOwnTime)
            {
                timeout.CancelAfter(options.Value.SourceTimeout);
            }

            var started = Stopwatch.GetTimestamp();
            // A child of the worker's item span; null (and free) unless traces are exported.
            using var span = Instruments.Traces.StartActivity("source " + source.Name);
            span?.SetTag("peopleenrich.source", source.Name);
            string? said = null;
            try
            {
                var findings = await source.FindAsync(person, wanted, new SourceContext(emails.ToList(), deferrals) { AskingAgain = outageRetries + failedAttempts > 0 }, timeout.Token);
                said = findings.Emails.Count + findings.Phones.Count > 0 ? SourceOutcome.Found
                    : findings.Answered && findings.Gap is null ? SourceOutcome.Empty
                    : SourceOutcome.CouldNotCheck;
                unanswered += findings.Answered ? 0 : 1;
                if (findings.Gap is { } gap)
                {
                    gaps.Add(new Gap(gap.What, gap.Retryable, wanted, AnsweredNothing: findings.Emails.Count == 0 && findings.Phones.Count == 0));
                    logger.LogInformation("Source {Source} could not check everything for a person at {Domain}: {What}", source.Name, person.Domain, gap.What);
                }

                emails.AddRange(findings.Emails);
                if (!findings.BouncesChecked)
                {
                    emails.AddRange(await BouncedAmongAsync(findings.Emails, emails, cancellationToken));
                }
                phones.AddRange(findings.Phones);
                outcome = Verdict.Decide(emails, phones);
            }
            catch (SourceDeferredException deferred)
            {
                said = SourceOutcome.Deferred;
                logger.LogInformation("Source {Source} put off a person at {Domain} for {RetryAfter}: {Reason}", source.Name, person.Domain, deferred.RetryAfter, deferred.Message);
                return new WaterfallResult.Deferred(deferred.RetryAfter, $"{source.Name}: {deferred.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                said = SourceOutcome.TimedOut;
                gaps.Add(Gap.Failure($"{source.Name}: timed out after {options.Value.SourceTimeout.TotalSeconds:0.#} s", wanted));
                logger.LogWarning("Source {Source} timed out after {Elapsed} for a person at {Domain}",
                    source.Name, Stopwatch.GetElapsedTime(started), person.Domain);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                said = SourceOutcome.Failed;
                // Its words are ours (SQL, our infrastructure's host names, a library's internals): logged, never shown to the caller.
                gaps.Add(Gap.Failure($"the source {source.Name} failed unexpectedly", wanted) with { Unexpected = true });
                logger.LogWarning(exception, "Source {Source} failed for a person at {Domain}", source.Name, person.Domain);
            }
            finally
            {
                // Unsaid when the item itself was cancelled (its lease or the process ended): the source is not to blame.
                if (said is not null)
                {
                    Instruments.SourceAsked(source.Name, said, Stopwatch.GetElapsedTime(started));
                    span?.SetTag("peopleenrich.outcome", said);
                    if (said is SourceOutcome.Failed or SourceOutcome.TimedOut)
                    {
                        span?.SetStatus(ActivityStatusCode.Error, said);
                    }
                }
            }
        }

        return Conclude(person, asked, outcome, gaps, asksMade, unanswered, outageRetries);
    }

    /// <summary>The bounces reported of the addresses a source just gave, unless they are known bounced already.</summary>
    private async Task<IReadOnlyList<EmailEvidence>> BouncedAmongAsync(IReadOnlyList<EmailEvidence> found, IReadOnlyList<EmailEvidence> soFar, CancellationToken cancellationToken)
    {
        var known = soFar.Where(e => e.Observation == EmailObservation.ReportedBounced).Select(e => e.Address).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var asked = found.Select(e => e.Address.ToLowerInvariant()).Where(address => !known.Contains(address)).Distinct().ToList();
        return asked.Count == 0 ? [] : await _bounces.AmongAsync(asked, cancellationToken);
    }

    /// <summary>
    /// The item's fate once every source was asked: FAILED-bound when none answered anything; put off while a gap
    /// in what is still missing may pass and retries are left; else its answer, naming the gaps left in it.
    /// </summary>
    private WaterfallResult Conclude(Person person, EnrichFields asked, EnrichmentOutcome outcome, IReadOnlyList<Gap> gaps, int asksMade, int unanswered, int outageRetries)
    {
        if (asksMade > 0 && gaps.Count(g => g.AnsweredNothing) == asksMade)
        {
            return new WaterfallResult.AllSourcesFailed("every source failed: " + Describe(gaps), Retryable: gaps.Any(g => g.Retryable));
        }

        // A gap in a field another source then found costs the answer nothing (but its reuse, below).
        var missing = asked & ~outcome.Found;
        var open = gaps.Where(g => (g.Wanted & missing) != EnrichFields.None).ToList();
        var schedule = options.Value.OutageRetrySchedule;
        if (open.Any(g => g.Retryable) && outageRetries < schedule.Count)
        {
            logger.LogInformation("Putting off a person at {Domain} for {RetryAfter} (retry {Retry} of {Retries}): could not check {What}",
                person.Domain, schedule[outageRetries], outageRetries + 1, schedule.Count, Describe(open));
            return new WaterfallResult.OutageDeferred(schedule[outageRetries], "could not check: " + Describe(open));
        }

        return new WaterfallResult.Completed(
            open.Count == 0 ? outcome : outcome with { Error = "Could not check: " + Describe(open, outageRetries) },
            Cacheable: gaps.Count == 0 && unanswered == 0);
    }

    /// <param name="retries">When given, how often the item was asked again: said of a source that failed unexpectedly, which it was asked again for.</param>
    private static string Describe(IEnumerable<Gap> gaps, int retries = 0) => string.Join("; ", gaps
        .Select(g => g.Unexpected && retries > 0 ? $"{g.What} (retried {retries} {(retries == 1 ? "time" : "times")})" : g.What)
        .Distinct(StringComparer.Ordinal));

    /// <summary>One source's gap: what it could not check, whether that may pass, the fields it was asked, and whether it gave nothing at all.</summary>
    private sealed record Gap(string What, bool Retryable, EnrichFields Wanted, bool AnsweredNothing)
    {
        /// <summary>The source threw: why is in the log, not in <see cref="What"/>.</summary>
        public bool Unexpected { get; init; }

        /// <summary>A source that threw or timed out: nothing is known of why, so asking again may help.</summary>
        public static Gap Failure(string what, EnrichFields wanted) => new(what, Retryable: true, wanted, AnsweredNothing: true);
    }
}

public static class WaterfallSetup
{
    /// <summary>Registers a source; the order of these calls is the waterfall's order.</summary>
    public static IServiceCollection AddEnrichmentSource<TSource>(this IServiceCollection services)
        where TSource : class, IEnrichmentSource
    {
        services.AddSingleton<IEnrichmentSource, TSource>();
        return services;
    }
}
