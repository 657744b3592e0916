using PeopleEnrich.Tests.Infrastructure;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// Two PeopleEnrich servers in one process: the second's directory knows people, the first's knows
/// no one and has the second as its upstream. Both on the same kind of database, each its own.
/// </summary>
public abstract class FederationTests<TProvider> where TProvider : IDatabaseProvider
{
    [Fact]
    public async Task A_server_finds_through_its_upstream_what_the_upstream_knows_and_completes_items_once_the_upstream_is_gone()
    {
        var second = await TestApp.StartAsync(TProvider.Name);
        var secondRunning = true;
        try
        {
            await second.ImportDirectoryAsync(
                new DirectoryRow("Grace", "Hopper", "navy-example.org", "grace@navy-example.org", "+1 202 555 0143"),
                new DirectoryRow("Alan", "Turing", "bletchley-example.co.uk", null, "020 7946 0018"));
            var client = await second.CreateAccountAsync(credits: 1000);
            await using var first = await TestApp.StartAsync(TProvider.Name, UpstreamSettings.For(new Uri(client.Http.BaseAddress!, "/api"), client.ApiKey, name: "second"));
            var account = await first.CreateAccountAsync();

            var found = Assert.Single(await account.EnrichAsync(Query("Grace", "Hopper", "navy-example.org")));
            Assert.Equal([("grace@navy-example.org", "UNKNOWN")], EmailsOf(found)); // the second's verdict (it asks no mail server), carried
            Assert.Equal([("+12025550143", "US")], PhonesOf(found));
            Assert.Equal(10, (await client.CreditsAsync()).Used); // the second charged its client for the phone it found

            secondRunning = false;
            await second.DisposeAsync();

            var unanswered = Assert.Single(await account.EnrichAsync(Query("Alan", "Turing", "bletchley-example.co.uk")));
            Assert.Empty(EmailsOf(unanswered));
            Assert.Empty(PhonesOf(unanswered));
        }
        finally
        {
            if (secondRunning)
            {
                await second.DisposeAsync();
            }
        }
    }
}

public sealed class SqliteFederationTests : FederationTests<Sqlite>;

public sealed class PostgresFederationTests : FederationTests<Postgres>;
