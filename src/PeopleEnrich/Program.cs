using PeopleEnrich.Accounts;
using PeopleEnrich.Admin;
using PeopleEnrich.Api;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Credits;
using PeopleEnrich.Hosting;
using PeopleEnrich.Pipeline;
using PeopleEnrich.Privacy;
using PeopleEnrich.Sources;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;

if (AdminCommands.Handles(args))
{
    return await AdminCommands.RunAsync(args);
}

// Settings files live beside the binary, so the program behaves the same from any working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.UseDefaultAddress("http://localhost:8080");

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddStorage(builder.Configuration);
builder.Services.AddCredits();
builder.Services.AddAccounts(builder.Configuration);
builder.Services.AddCallerAuthentication(builder.Configuration);
builder.Services.AddCallerRateLimiting(builder.Configuration);
builder.Services.AddApi();
builder.Services.AddPrivacy();
builder.Services.AddPipeline(builder.Configuration);
builder.Services.AddSources(builder.Configuration);
builder.Services.AddRetention(builder.Configuration);
builder.Services.AddHealth();
builder.AddTelemetry();

var app = builder.Build();
await app.Services.PrepareDatabaseAsync(bootstrap: true);

app.UseApiErrors();
app.UseMetrics();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapPeopleEnrichment();
app.MapCredits();
app.MapContract();
app.MapHealth();

await app.RunAsync();
return 0;

public partial class Program;
