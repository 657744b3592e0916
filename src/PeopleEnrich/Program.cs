using PeopleEnrich.Accounts;
using PeopleEnrich.Admin;
using PeopleEnrich.Api;
using PeopleEnrich.Auth;
using PeopleEnrich.Hosting;
using PeopleEnrich.Pipeline;
using PeopleEnrich.Sources;
using PeopleEnrich.Storage;

if (AdminCommands.Handles(args))
{
    return await AdminCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.UseDefaultAddress("http://localhost:8080");
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
// Data protection is pulled in by authentication but protects nothing here (API keys are hashed).
builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddStorage(builder.Configuration);
builder.Services.AddAccounts(builder.Configuration);
builder.Services.AddCallerAuthentication(builder.Configuration);
builder.Services.AddCallerRateLimiting(builder.Configuration);
builder.Services.AddApi();
builder.Services.AddPipeline(builder.Configuration);
builder.Services.AddSources();
builder.Services.AddHealth();

var app = builder.Build();
await app.Services.PrepareDatabaseAsync(bootstrap: true);

app.UseApiErrors();
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
