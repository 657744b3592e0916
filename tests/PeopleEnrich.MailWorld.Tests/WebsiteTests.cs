using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using DnsClient;

namespace PeopleEnrich.MailWorld.Tests;

public sealed class WebsiteTests
{
    private const string Home = "<!doctype html><html><body><a href=\"/team\">Team</a></body></html>";

    private static DomainDescription Shop() => new()
    {
        Name = "shop.test",
        Mx = [new MxDescription { Host = "mx.shop.test" }],
        Website = new WebsiteDescription
        {
            Pages =
            [
                new PageDescription { Path = "/", Body = Home },
                new PageDescription { Path = "/team", Body = "<p>Jane Doe, jane.doe@shop.test</p>" },
                new PageDescription { Path = "/data.json", ContentType = "application/json", Body = """{"ok":true}""" },
                new PageDescription { Path = "/old", Status = 302, Location = "https://www.shop.test/team", Body = "" },
                new PageDescription { Path = "/search?q=jane", Body = "exact query" },
                new PageDescription { Path = "/search", Body = "any query" },
                new PageDescription { Path = "/gone", Status = 410, Body = "gone" },
                new PageDescription { Path = "/plain-only", Https = false, Body = "over http only" },
            ],
            RobotsTxt = "User-agent: *\nDisallow: /private\n",
        },
    };

    [Fact]
    public async Task Pages_are_served_with_their_status_content_type_and_body_over_both_schemes()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Shop()));
        using var client = world.Client();
        foreach (var url in new[] { world.Http("shop.test", "/"), world.Https("shop.test", "/"), world.Https("www.shop.test", "/") })
        {
            using var home = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
            Assert.Equal(new Version(1, 1), home.Version);
            Assert.Equal("text/html; charset=utf-8", home.Content.Headers.ContentType?.ToString());
            Assert.Equal(Home, await home.Content.ReadAsStringAsync());
        }

        using var json = await client.GetAsync(world.Https("shop.test", "/data.json"));
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"ok":true}""", await json.Content.ReadAsStringAsync());

        using var gone = await client.GetAsync(world.Http("shop.test", "/gone"));
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("gone", await gone.Content.ReadAsStringAsync());

        Assert.Equal("exact query", await client.GetStringAsync(world.Http("shop.test", "/search?q=jane")));
        Assert.Equal("any query", await client.GetStringAsync(world.Http("shop.test", "/search?q=john")));
        Assert.Equal("over http only", await client.GetStringAsync(world.Http("shop.test", "/plain-only")));
        using var notOverTls = await client.GetAsync(world.Https("shop.test", "/plain-only"));
        Assert.Equal(HttpStatusCode.NotFound, notOverTls.StatusCode);
    }

    [Fact]
    public async Task Robots_txt_redirects_and_unknown_paths()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Shop(), new DomainDescription
        {
            Name = "norobots.test",
            NullMx = true,
            Website = new WebsiteDescription { Pages = [new PageDescription { Path = "/", Body = "hi" }] },
        }));
        using var client = world.Client();

        using var robots = await client.GetAsync(world.Https("shop.test", "/robots.txt"));
        Assert.Equal(HttpStatusCode.OK, robots.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", robots.Content.Headers.ContentType?.ToString());
        Assert.Equal("User-agent: *\nDisallow: /private\n", await robots.Content.ReadAsStringAsync());
        using var noRobots = await client.GetAsync(world.Http("norobots.test", "/robots.txt"));
        Assert.Equal(HttpStatusCode.NotFound, noRobots.StatusCode);

        using var redirect = await client.GetAsync(world.Http("shop.test", "/old"));
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("https://www.shop.test/team", redirect.Headers.Location?.OriginalString);

        foreach (var path in new[] { "/nope", "/Team", "/team/", "/private" })
        {
            using var missing = await client.GetAsync(world.Https("shop.test", path));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("Not Found", await missing.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Https_works_only_for_a_client_trusting_the_worlds_certificate()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Shop()));
        using var trusting = world.Client(trustWorld: true);
        Assert.Equal(Home, await trusting.GetStringAsync(world.Https("www.shop.test", "/")));

        using var untrusting = world.Client(trustWorld: false);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetStringAsync(world.Https("shop.test", "/")));
        Assert.IsType<AuthenticationException>(refused.InnerException);
        Assert.Equal(1, world.TotalHttpRequests);

        Assert.StartsWith("-----BEGIN CERTIFICATE-----", world.CertificatePem, StringComparison.Ordinal);
        var san = world.Certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single();
        Assert.Superset(new HashSet<string> { "shop.test", "www.shop.test", "mx.shop.test", "localhost" }, san.EnumerateDnsNames().ToHashSet());
    }

    [Fact]
    public async Task A_body_bytes_page_streams_all_its_bytes_and_a_client_that_hangs_up_is_sent_far_fewer()
    {
        const long size = 50L * 1024 * 1024;
        var site = new DomainDescription
        {
            Name = "big.test",
            Website = new WebsiteDescription { Pages = [new PageDescription { Path = "/huge", BodyBytes = size }, new PageDescription { Path = "/tiny", BodyBytes = 10 }] },
        };
        await using var world = await MailWorld.StartAsync(Worlds.Of(site));
        using var client = world.Client();

        using (var full = await client.GetAsync(world.Http("big.test", "/huge"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(size, full.Content.Headers.ContentLength);
            await using var body = await full.Content.ReadAsStreamAsync();
            var buffer = new byte[81920];
            long total = 0;
            var start = new List<byte>();
            for (int n; (n = await body.ReadAsync(buffer)) > 0; total += n)
                if (start.Count < 15) start.AddRange(buffer.Take(Math.Min(n, 15 - start.Count)));
            Assert.Equal(size, total);
            Assert.Equal("<!doctype html>", System.Text.Encoding.ASCII.GetString(start.ToArray()));
        }
        Assert.Equal(10, (await client.GetByteArrayAsync(world.Http("big.test", "/tiny"))).Length);

        using (var partial = await client.GetAsync(world.Https("big.test", "/huge"), HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await partial.Content.ReadAsStreamAsync();
            var buffer = new byte[16384];
            for (long read = 0; read < 1024 * 1024;)
            {
                var n = await body.ReadAsync(buffer);
                Assert.True(n > 0);
                read += n;
            }
        }
        await world.WhenHttpIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var records = world.HttpRequests;
        Assert.Equal(3, records.Count);
        Assert.Equal(size, records[0].BytesSent);
        Assert.Equal(10, records[1].BytesSent);
        Assert.Equal("https", records[2].Scheme);
        Assert.InRange(records[2].BytesSent, 1024 * 1024, size / 5);
    }
}
