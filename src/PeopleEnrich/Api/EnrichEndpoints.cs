using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PeopleEnrich.Answers;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Pipeline.Workers;
using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Api;

public static class EnrichEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const string WebhookUrlProperty = "webhook_url";
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecheckGap = TimeSpan.FromMilliseconds(25);

    public static IEndpointRouteBuilder MapPeopleEnrichment(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2/people/enrich").RequireAuthorization();
        group.MapPost("", SubmitAsync);
        group.MapGet("", RequestListing.ListAsync);
        group.MapGet("/{RequestID}", GetAsync);
        group.MapGet("/{RequestID}/evidence", GetEvidenceAsync);
        return app;
    }

    private static async Task<Results<Accepted<EnrichPeopleOutputBody>, ApiProblem>> SubmitAsync(
        HttpContext http, EnrichRequestReader reader, CallbackUrls callbacks, BatchStore batches, WorkSignal work, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        using (body)
        {
            var errors = new List<ErrorDetail>();
            var idempotencyKey = ReadIdempotencyKey(http.Request, errors);
            var webhookErrors = new List<ErrorDetail>();
            var webhookUrl = await ReadWebhookUrlAsync(body!.Root, callbacks, webhookErrors, cancellationToken);
            if (!reader.TryRead(body.Root, out var items, out var bodyErrors) || errors.Count > 0 || webhookErrors.Count > 0)
            {
                return ApiProblem.Unprocessable([.. errors, .. bodyErrors, .. webhookErrors]);
            }

            var claim = idempotencyKey is null ? null : new IdempotencyClaim(idempotencyKey, body.Sha256);
            var result = await batches.SubmitAsync(http.User.AccountId(), items, claim, webhookUrl, cancellationToken);
            switch (result)
            {
                case SubmitResult.Accepted accepted:
                    if (!accepted.Replayed)
                    {
                        work.Pulse();
                    }

                    return TypedResults.Accepted(
                        $"/api/v2/people/enrich/{accepted.BatchId}",
                        new EnrichPeopleOutputBody(accepted.BatchId, ItemStatus.Processing, accepted.ItemCount));
                case SubmitResult.InsufficientCredits insufficient:
                    return ApiProblem.PaymentRequired(
                        $"This batch needs {insufficient.Required} credits (1 per person asking for contact.emails, 10 per person asking for contact.phones) and the account has {insufficient.Remaining} left. Nothing was stored.");
                default:
                    return ApiProblem.Unprocessable([ErrorDetail.WithText($"header.{IdempotencyKeyHeader}",
                        "this key was already used with a different body in the last 24 hours; use a new key for a new request",
                        idempotencyKey!)]);
            }
        }
    }

    /// <summary>The extension's top-level webhook_url, when it is one we may call (its type is the schema's to report).</summary>
    private static async Task<string?> ReadWebhookUrlAsync(JsonElement body, CallbackUrls callbacks, List<ErrorDetail> errors, CancellationToken cancellationToken)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty(WebhookUrlProperty, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var url = value.GetString()!;
        if (await callbacks.ProblemAsync(url, cancellationToken) is { } problem)
        {
            errors.Add(new ErrorDetail($"body.{WebhookUrlProperty}", problem, value.Clone()));
            return null;
        }

        return url;
    }

    internal static string? ReadIdempotencyKey(HttpRequest request, List<ErrorDetail> errors)
    {
        if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var values))
        {
            return null;
        }

        var location = $"header.{IdempotencyKeyHeader}";
        if (values.Count != 1)
        {
            errors.Add(new ErrorDetail(location, "send the header once", null));
            return null;
        }

        var key = values[0] ?? "";
        if (key.Length is < 1 or > 255 || key.Any(c => c is < '\u0020' or > '\u007E'))
        {
            errors.Add(ErrorDetail.WithText(location, "must be 1 to 255 printable ASCII characters", key));
            return null;
        }

        return key;
    }

    private static async Task<Results<Ok<GetEnrichPeopleStatusOutputBody>, FileContentHttpResult, ApiProblem>> GetAsync(
        string RequestID, HttpContext http, BatchStore batches, WorkSignal work, TimeProvider time, CancellationToken cancellationToken)
    {
        var accountId = http.User.AccountId();
        // The same URL answers JSON or CSV by its Accept header; caches must keep them apart.
        http.Response.Headers.Vary = Microsoft.Net.Http.Headers.HeaderNames.Accept;
        var wait = PreferredWait(http.Request);
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            if (await FindAsync(RequestID, accountId, batches, cancellationToken) is not { } batch)
            {
                return NoSuchRequest(RequestID);
            }

            var remaining = deadline - time.GetUtcNow();
            if (batch.Status != ItemStatus.Processing || remaining <= TimeSpan.Zero)
            {
                if (ResultsCsv.IsWanted(http.Request))
                {
                    return ResultsCsv.Answer(batch);
                }

                return TypedResults.Ok(WireAnswers.Status(batch));
            }

            // Woken by this process's workers (other processes' progress is seen on the next poll), but
            // re-read at most every RecheckGap: a busy worker pool settles items many times a second.
            var slept = time.GetTimestamp();
            await work.WaitForProgressAsync(remaining < WorkSignal.PollInterval ? remaining : WorkSignal.PollInterval, cancellationToken);
            var gap = RecheckGap - time.GetElapsedTime(slept);
            if (gap > TimeSpan.Zero && gap < deadline - time.GetUtcNow())
            {
                await Task.Delay(gap, time, cancellationToken);
            }
        }
    }

    /// <summary>The evidence behind every email and phone the GET shows, item by item (an extension).</summary>
    private static async Task<Results<Ok<GetEnrichPeopleEvidenceOutputBody>, ApiProblem>> GetEvidenceAsync(
        string RequestID, HttpContext http, BatchStore batches, CancellationToken cancellationToken) =>
        await FindAsync(RequestID, http.User.AccountId(), batches, cancellationToken) is { } batch
            ? TypedResults.Ok(WireAnswers.Evidence(batch))
            : NoSuchRequest(RequestID);

    /// <summary>The batch if this account submitted it; ownership is part of the query, so another account's is simply not found.</summary>
    private static async Task<StoredBatch?> FindAsync(string requestId, string accountId, BatchStore batches, CancellationToken cancellationToken) =>
        Guid.TryParse(requestId, out _) ? await batches.FindAsync(accountId, requestId, cancellationToken) : null;

    private static ApiProblem NoSuchRequest(string requestId) =>
        ApiProblem.NotFound("No enrichment request with this ID exists for this account.", "path.RequestID", requestId);

    /// <summary>RFC 7240 "Prefer: wait=N", N from 1 to 30 (larger values are held to 30); anything else is ignored.</summary>
    public static TimeSpan PreferredWait(HttpRequest request)
    {
        foreach (var header in request.Headers["Prefer"])
        {
            foreach (var preference in (header ?? "").Split(','))
            {
                var parts = preference.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && parts[0].Equals("wait", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(parts[1].Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 1)
                {
                    var wait = TimeSpan.FromSeconds(seconds);
                    return wait > MaxWait ? MaxWait : wait;
                }
            }
        }

        return TimeSpan.Zero;
    }
}
