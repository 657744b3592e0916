using System.Net;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Api;

public abstract class SmokeTests<TProvider>(AppFixture<TProvider> fixture) : IClassFixture<AppFixture<TProvider>>
    where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task A_submitted_batch_completes_and_is_read_back()
    {
        var account = await fixture.App.CreateAccountAsync();
        var id = await account.SubmitAcceptedAsync(People.Batch(People.Person()));
        var batch = await account.WaitForCompletionAsync(id);
        Assert.Equal("COMPLETED", batch["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await fixture.App.Client().GetAsync("/healthz")).StatusCode);
    }
}

public sealed class SqliteSmokeTests(AppFixture<Sqlite> fixture) : SmokeTests<Sqlite>(fixture);

public sealed class PostgresSmokeTests(AppFixture<Postgres> fixture) : SmokeTests<Postgres>(fixture);
