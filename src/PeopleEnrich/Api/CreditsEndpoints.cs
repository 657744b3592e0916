using Microsoft.AspNetCore.Http.HttpResults;
using PeopleEnrich.Accounts;
using PeopleEnrich.Api.Auth;

namespace PeopleEnrich.Api;

public static class CreditsEndpoints
{
    /// <summary>The credit line's name in the Tamtam API, kept for wire compatibility.</summary>
    public const string CreditType = "MaxPeopleEnrichments";

    public static IEndpointRouteBuilder MapCredits(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/credits", GetAsync).RequireAuthorization();
        return app;
    }

    private static async Task<Ok<GetCreditsOutputBody>> GetAsync(HttpContext http, AccountStore accounts, CancellationToken cancellationToken)
    {
        var balance = await accounts.GetBalanceAsync(http.User.AccountId(), cancellationToken);
        return TypedResults.Ok(new GetCreditsOutputBody([new CreditLine(CreditType, balance.Used, balance.Total, balance.Remaining)]));
    }
}
