using System.Net;
using Microsoft.Extensions.Options;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Webhooks;

/// <summary>
/// The delivery workers of a process of the worker role: <see cref="WebhookOptions.Concurrency"/> loops, each claiming one
/// due event at a time and posting it, signed, through the network guard. Apart from the enrichment workers, so a
/// receiver that hangs holds a delivery slot for <see cref="WebhookOptions.Timeout"/> at most and never an item.
/// </summary>
public sealed class WebhookDelivery : BackgroundService
{
    private readonly WebhookStore _store;
    private readonly WebhookOutbox _outbox;
    private readonly CompletionEvent _events;
    private readonly WorkerIdentity _identity;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDelivery> _logger;
    private readonly HttpClient _http;

    public WebhookDelivery(WebhookStore store, WebhookOutbox outbox, CompletionEvent events, WorkerIdentity identity, GuardedHttp guarded,
        IOptions<WebhookOptions> options, IOptions<SmtpOptions> smtp, TimeProvider time, ILogger<WebhookDelivery> logger)
    {
        _store = store;
        _outbox = outbox;
        _events = events;
        _identity = identity;
        _options = options.Value;
        _time = time;
        _logger = logger;
        // The same guarded connections as the website crawler: resolved by our resolvers, each address checked at connect
        // time (no DNS rebinding), no redirects followed, through the operator's SOCKS5 proxy when one is set.
        _http = new HttpClient(guarded.CreateHandler(new GuardedHttpSettings(_options.Timeout, smtp.Value.Proxy, null))) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("PeopleEnrich-Webhooks/1.0");
    }

    /// <summary>A claim outlives its attempt (cut off at Timeout) with room to record the outcome.</summary>
    private TimeSpan Lease => (_options.Timeout * 2) + TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var released = await _store.ReleaseHeldAsync(_identity.Id, stoppingToken);
        if (released > 0)
        {
            _logger.LogInformation("{Count} webhook events this worker held when it last stopped are due again", released);
        }

        // One loop polls; the others wait to be woken, so an idle process asks the database once a PollInterval, not Concurrency times.
        await Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(loop => LoopAsync(polls: loop == 0, stoppingToken)));
    }

    private async Task LoopAsync(bool polls, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var woken = _outbox.Added.NextFlash;
                if (await _store.ClaimAsync(_identity.Id, Lease, stoppingToken) is { } claimed)
                {
                    // There may be more: the idle loops look too (each that finds one wakes the rest again).
                    _outbox.Added.Flash();
                    await DeliverAsync(claimed, stoppingToken);
                    continue;
                }

                await Beacon.WaitAsync(woken, polls ? _options.PollInterval : Timeout.InfiniteTimeSpan, _time, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: whatever a cancelled database command threw is the stop, not a failed delivery.
                return;
            }
            catch (Exception exception)
            {
                // The database was unreachable, say: the event stays leased and is tried again when its lease runs out.
                _logger.LogError(exception, "Webhook delivery failed unexpectedly; trying again shortly");
                await Task.Delay(_options.PollInterval, _time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task DeliverAsync(ClaimedEvent claimed, CancellationToken stoppingToken)
    {
        var body = await _events.RenderAsync(claimed, stoppingToken);
        if (body is null)
        {
            await FinishAsync(claimed, WebhookStates.Failed, "the request no longer exists (deleted by retention)", "gone", stoppingToken);
            return;
        }

        var secrets = await _store.SigningSecretsAsync(claimed.AccountId, _options.RotationOverlap, stoppingToken);
        var (status, outcome) = await PostAsync(claimed, body, secrets, stoppingToken);
        if (outcome == Outcome.Delivered)
        {
            await FinishAsync(claimed, WebhookStates.Delivered, status, "delivered", stoppingToken);
        }
        else if (outcome == Outcome.Gone)
        {
            await FinishAsync(claimed, WebhookStates.Disabled, status, "disabled", stoppingToken);
            if (claimed.FromDefault)
            {
                await _store.DisableDefaultAsync(claimed.AccountId, claimed.Url, $"{status} at {_time.GetUtcNow():u}", stoppingToken);
                _logger.LogWarning("The default webhook of account {AccountId} answered 410 Gone: disabled until 'webhooks set' again", claimed.AccountId);
            }
        }
        else if (NextAttempt(claimed) is { } next)
        {
            await _store.RecordAsync(claimed, _identity.Id, WebhookStates.Pending, status, next, stoppingToken);
            Instruments.WebhookAttempted("retrying");
            _logger.LogInformation("Webhook event {EventId} (request {RequestId}) attempt {Attempt}: {Status}; next attempt at {Next:u}",
                claimed.Id, claimed.BatchId, claimed.Attempts, status, next);
        }
        else
        {
            await FinishAsync(claimed, WebhookStates.Failed, $"{status} (gave up after {claimed.Attempts} attempts)", "gave_up", stoppingToken);
        }
    }

    private async Task FinishAsync(ClaimedEvent claimed, string state, string status, string outcome, CancellationToken cancellationToken)
    {
        await _store.RecordAsync(claimed, _identity.Id, state, status, null, cancellationToken);
        Instruments.WebhookAttempted(outcome);
        _logger.LogInformation("Webhook event {EventId} (request {RequestId}) {State} after {Attempts} attempts: {Status}",
            claimed.Id, claimed.BatchId, state, claimed.Attempts, status);
    }

    /// <summary>Exponential backoff with equal jitter (half the wait fixed, half random); null once it would pass GiveUpAfter.</summary>
    private DateTimeOffset? NextAttempt(ClaimedEvent claimed)
    {
        var exponent = Math.Min(claimed.Attempts - 1, 30);
        var wait = TimeSpan.FromTicks(Math.Min(_options.MaxRetryAfter.Ticks, _options.FirstRetryAfter.Ticks * (1L << Math.Min(exponent, 20))));
        wait = (wait / 2) + (wait / 2 * Random.Shared.NextDouble());
        var next = _time.GetUtcNow() + wait;
        return next <= claimed.CreatedAt + _options.GiveUpAfter ? next : null;
    }

    private enum Outcome
    {
        Delivered,
        Gone,
        Failed,
    }

    private async Task<(string Status, Outcome Outcome)> PostAsync(ClaimedEvent claimed, byte[] body, SigningSecrets secrets, CancellationToken stoppingToken)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, claimed.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TryAddWithoutValidation("webhook-id", claimed.Id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Sign(secrets.All, claimed.Id, timestamp, body));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            await DrainCappedAsync(response, deadline.Token);
            var code = (int)response.StatusCode;
            var status = $"{code}";
            return code switch
            {
                >= 200 and < 300 => (status, Outcome.Delivered),
                (int)HttpStatusCode.Gone => (status, Outcome.Gone),
                >= 300 and < 400 => ($"{status} (redirects are not followed)", Outcome.Failed),
                _ => (status, Outcome.Failed),
            };
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return ($"no answer within {_options.Timeout.TotalSeconds:0.#} s", Outcome.Failed);
        }
        catch (HttpRequestException exception) when (exception.InnerException is BlockedAddressException)
        {
            return ("refused: the host resolves to an address that is not public", Outcome.Failed);
        }
        catch (HttpRequestException exception)
        {
            return ($"could not connect: {exception.HttpRequestError}", Outcome.Failed);
        }
    }

    /// <summary>Reads at most MaxResponseBytes of the answer, so that a receiver streaming without end cannot hold us.</summary>
    private async Task DrainCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[Math.Min(8192, Math.Max(1, _options.MaxResponseBytes))];
        var left = _options.MaxResponseBytes;
        while (left > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0)
            {
                break;
            }

            left -= read;
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
