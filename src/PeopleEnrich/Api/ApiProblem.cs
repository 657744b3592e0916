using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using PeopleEnrich.Api.Json;

namespace PeopleEnrich.Api;

/// <summary>
/// Every error the API answers: an RFC 9457 problem (the contract's ErrorModel) as
/// application/problem+json. A typed result, so endpoints list the problems they can answer.
/// </summary>
public sealed class ApiProblem : IResult, IStatusCodeHttpResult
{
    public const string ContentType = "application/problem+json";

    private ApiProblem(int statusCode, string detail, IReadOnlyList<ErrorDetail>? errors = null, TimeSpan? retryAfter = null)
    {
        StatusCode = statusCode;
        Detail = detail;
        Errors = errors;
        RetryAfter = retryAfter;
    }

    public int StatusCode { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string Detail { get; }

    public IReadOnlyList<ErrorDetail>? Errors { get; }

    public TimeSpan? RetryAfter { get; }

    public static ApiProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    public static ApiProblem Unauthorized(string detail) => new(StatusCodes.Status401Unauthorized, detail);

    public static ApiProblem PaymentRequired(string detail) => new(StatusCodes.Status402PaymentRequired, detail);

    public static ApiProblem NotFound(string detail, string? location = null, string? value = null) =>
        new(StatusCodes.Status404NotFound, detail, location is null ? null
            : [value is null ? new ErrorDetail(location, detail, null) : ErrorDetail.WithText(location, detail, value)]);

    public static ApiProblem PayloadTooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, detail);

    public static ApiProblem UnsupportedMediaType(string detail) => new(StatusCodes.Status415UnsupportedMediaType, detail);

    public static ApiProblem Unprocessable(IReadOnlyList<ErrorDetail> errors) =>
        new(StatusCodes.Status422UnprocessableEntity,
            errors.Count == 1 ? $"The request breaks the contract at {errors[0].Location}: {errors[0].Message}" : $"The request breaks the contract in {errors.Count} places; each is listed in errors.",
            errors);

    public static ApiProblem TooManyRequests(TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, $"Over the rate limit for this key; retry in {Seconds(retryAfter)} s.", retryAfter: retryAfter);

    public static ApiProblem Status(int statusCode, string detail) => new(statusCode, detail);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = ContentType;
        if (RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Seconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var model = new ErrorModel("about:blank", ReasonPhrases.GetReasonPhrase(StatusCode), StatusCode, Detail, httpContext.Request.Path.Value, Errors);
        await JsonSerializer.SerializeAsync(response.Body, model, ApiJson.Options, httpContext.RequestAborted);
    }

    // Retry-After is whole seconds; rounding up never invites a retry that is still too early.
    private static long Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));
}
