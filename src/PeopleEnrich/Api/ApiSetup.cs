using Microsoft.AspNetCore.Diagnostics;
using PeopleEnrich.Api.Json;
using PeopleEnrich.Api.Validation;
using PeopleEnrich.Contract;

namespace PeopleEnrich.Api;

public static class ApiSetup
{
    public static IServiceCollection AddApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options => ApiJson.Apply(options.SerializerOptions));
        services.AddSingleton(_ => ContractDocument.Load());
        services.AddSingleton<SchemaValidator>();
        services.AddSingleton<EnrichRequestReader>();
        services.AddSingleton<BounceReportReader>();
        return services;
    }

    /// <summary>
    /// Errors the framework answers itself (no such route, wrong method, an exception) come out as
    /// problem details too, and a 500 never carries a stack trace.
    /// </summary>
    public static WebApplication UseApiErrors(this WebApplication app)
    {
        app.UseExceptionHandler(handler => handler.Run(async http =>
        {
            var problem = http.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad
                ? ApiProblem.Status(bad.StatusCode, "The request could not be read.")
                : ApiProblem.Status(StatusCodes.Status500InternalServerError, "Something went wrong on our side; the error was logged. Retrying is safe.");
            await problem.ExecuteAsync(http);
        }));
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.HasStarted || http.Response.ContentLength > 0 || http.Response.ContentType is not null)
            {
                return;
            }

            var detail = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"There is nothing at {http.Request.Path}; see /docs for the API.",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}; see /docs for the API.",
                _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(http.Response.StatusCode),
            };
            await ApiProblem.Status(http.Response.StatusCode, detail).ExecuteAsync(http);
        });
        return app;
    }
}
