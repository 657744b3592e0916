using PeopleEnrich.Accounts;
using PeopleEnrich.Admin;
using PeopleEnrich.Api;
using PeopleEnrich.Api.Auth;
using PeopleEnrich.Bounces;
using PeopleEnrich.Api.Uploads;
using PeopleEnrich.Client;
using PeopleEnrich.Credits;
using PeopleEnrich.Hosting;
using PeopleEnrich.Pipeline;
using PeopleEnrich.Privacy;
using PeopleEnrich.Sources;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;
using PeopleEnrich.Webhooks;
using PeopleEnrich.WebConsole;

if (EnrichCommand.Handles(args))
{
    return await EnrichCommand.RunAsync(args);
}

if (AdminCommands.Handles(args) || AdminCommands.AsksForHelp(args))
{
    return await AdminCommands.RunAsync(args, EnrichCommand.Create());
}

// Settings files live beside the binary, so the program behaves the same from any working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.UseDefaultAddress("http://localhost:8080");
builder.QuietStartFailures();
if (!builder.TryGetRole(Console.Error, out var role))
{
    return 1;
}

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddStorage(builder.Configuration);
builder.Services.AddCredits();
builder.Services.AddAccounts(builder.Configuration);
builder.Services.AddCallerAuthentication(builder.Configuration);
builder.Services.AddCallerRateLimiting(builder.Configuration);
builder.Services.AddApi();
builder.Services.AddPrivacy();
builder.Services.AddPipeline(builder.Configuration);
builder.Services.AddWebhooks(builder.Configuration);
if (role.RunsWorkers())
{
    builder.Services.AddWorkers();
    builder.Services.AddWebhookDelivery();
    builder.Services.AddErasureFollowing(builder.Configuration);
}

builder.Services.AddSources(builder.Configuration);
builder.Services.AddBounces(builder.Configuration);
builder.Services.AddRetention(builder.Configuration);
builder.Services.AddHealth();
builder.AddTelemetry();

var app = builder.Build();
await app.Services.PrepareDatabaseAsync(bootstrap: role.ServesApi());

app.UseApiErrors();
app.UseMetrics();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

// A worker serves only its health, so that its port can be watched.
if (role.ServesApi())
{
    app.MapPeopleEnrichment();
    app.MapCsvUploads();
    app.MapCredits();
    app.MapBounces();
    app.MapContract();
    app.MapWebConsole();
}

app.MapHealth();

return await app.RunUntilStoppedAsync(Console.Error);

public partial class Program;
