using System.Diagnostics;
using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Pipeline.Waterfall;

public sealed class WaterfallOptions
{
    /// <summary>How long one source may take for one person before the next source is tried.</summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public abstract record WaterfallResult
{
    /// <param name="Cacheable">Every source asked answered: the outcome may be reused (an outage's gap must not be).</param>
    public sealed record Completed(EnrichmentOutcome Outcome, bool Cacheable = false) : WaterfallResult;

    /// <summary>Every source that could help erred: the item is retried, then FAILED.</summary>
    public sealed record AllSourcesFailed(string Error) : WaterfallResult;

    /// <summary>A source asked to be asked again later (greylisting): the item waits, no worker does.</summary>
    public sealed record Deferred(TimeSpan RetryAfter, string Reason) : WaterfallResult;
}

/// <summary>
/// Asks each source, in registration order, only for what is still missing, and stops once the asked
/// fields are found. A source's failure is logged and the next source is tried.
/// </summary>
public sealed class SourceWaterfall(IEnumerable<IEnrichmentSource> sources, IOptions<WaterfallOptions> options, ILogger<SourceWaterfall> logger)
{
    private readonly IReadOnlyList<IEnrichmentSource> _sources = sources.ToList();

    public async Task<WaterfallResult> RunAsync(Person person, EnrichFields asked, CancellationToken cancellationToken, int deferrals = 0)
    {
        var emails = new List<EmailEvidence>();
        var phones = new List<PhoneEvidence>();
        var outcome = Verdict.Decide(emails, phones);
        var errors = new List<string>();
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
            timeout.CancelAfter(options.Value.SourceTimeout);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var findings = await source.FindAsync(person, wanted, new SourceContext(emails.ToList(), deferrals), timeout.Token);
                unanswered += findings.Answered ? 0 : 1;
                emails.AddRange(findings.Emails);
                phones.AddRange(findings.Phones);
                outcome = Verdict.Decide(emails, phones);
            }
            catch (SourceDeferredException deferred)
            {
                logger.LogInformation("Source {Source} put off a person at {Domain} for {RetryAfter}: {Reason}", source.Name, person.Domain, deferred.RetryAfter, deferred.Message);
                return new WaterfallResult.Deferred(deferred.RetryAfter, $"{source.Name}: {deferred.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Add($"{source.Name}: timed out after {options.Value.SourceTimeout.TotalSeconds:0.#} s");
                logger.LogWarning("Source {Source} timed out after {Elapsed} for a person at {Domain}",
                    source.Name, Stopwatch.GetElapsedTime(started), person.Domain);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                errors.Add($"{source.Name}: {exception.Message}");
                logger.LogWarning(exception, "Source {Source} failed for a person at {Domain}", source.Name, person.Domain);
            }
        }

        return asksMade > 0 && errors.Count == asksMade
            ? new WaterfallResult.AllSourcesFailed("every source failed: " + string.Join("; ", errors))
            : new WaterfallResult.Completed(outcome, Cacheable: errors.Count == 0 && unanswered == 0);
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
