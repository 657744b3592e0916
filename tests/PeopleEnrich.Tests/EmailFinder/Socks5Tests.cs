extern alias SimulatedWorld;

using System.Net;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>Verification through the operator's SOCKS5 proxy: a real RFC 1928 relay the test runs on loopback.</summary>
public sealed class Socks5Tests
{
    private static readonly WorldDescription World = new()
    {
        Domains = [new DomainDescription { Name = "proxied.test", Mx = [new MxDescription { Host = "mx.proxied.test" }], Mailboxes = ["jane.doe"] }],
    };

    [Theory]
    [InlineData(null, null)]
    [InlineData("verifier", "s3cret")]
    public async Task Sessions_go_through_the_proxy_and_the_person_is_found(string? user, string? password)
    {
        await using var proxy = Socks5Relay.Start(user, password);
        var credentials = user is null ? "" : $"{user}:{password}@";
        await using var app = await WorldApp.StartAsync(Sqlite.Name, World, new Dictionary<string, string?>
        {
            ["Smtp:Socks5Proxy"] = $"socks5://{credentials}127.0.0.1:{proxy.Port}",
        });
        var account = await app.App.CreateAccountAsync();

        var result = Assert.Single(await account.EnrichAsync(Query("Jane", "Doe", "proxied.test")));

        Assert.Equal([("jane.doe@proxied.test", "DELIVERABLE")], EmailsOf(result));
        var mx = app.World.Host("mx.proxied.test");
        Assert.NotEmpty(proxy.Targets);
        Assert.All(proxy.Targets, target => Assert.Equal(new IPEndPoint(mx.Address, app.World.SmtpPort), target));
        Assert.Equal(proxy.Targets.Count, mx.Sessions); // every session came through the proxy
    }
}
