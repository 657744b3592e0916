using Microsoft.AspNetCore.Http.HttpResults;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Bounces;

namespace PeopleEnrich.Api;

/// <summary>Extension: POST /api/v2/people/bounces, bounce feedback (refunds, and what every later answer learns from it).</summary>
public static class BounceEndpoints
{
    public static IEndpointRouteBuilder MapBounces(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/people/bounces", ReportAsync).RequireAuthorization();
        return app;
    }

    private static async Task<Results<Ok<ReportBouncesOutputBody>, ApiProblem>> ReportAsync(
        HttpContext http, BounceReportReader reader, BounceFeedback feedback, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, cancellationToken, expected: "an \"emails\" list");
        if (problem is not null)
        {
            return problem;
        }

        using (body)
        {
            if (!reader.TryRead(body!.Root, out var addresses, out var errors))
            {
                return ApiProblem.Unprocessable(errors);
            }

            var verdicts = await feedback.ReportAsync(http.User.AccountId(), addresses, cancellationToken);
            return TypedResults.Ok(new ReportBouncesOutputBody(verdicts.Select(v => new BounceResult(v.Email, v.Refunded, v.Reason, v.RequestId)).ToList()));
        }
    }
}
