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
    public async Task A_body_bytes_page_streams_all_its_bytes_when_read_to_the_end()
    {
        const long size = 50L * 1024 * 1024;
        await using var world = await MailWorld.StartAsync(Worlds.Of(Big(size)));
        using var client = world.Client();

        using (var full = await client.GetAsync(world.Http("big.test", "/huge"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(size, full.Content.Headers.ContentLength);
            await using var body = await full.Content.ReadAsStreamAsync();
            var buffer = new byte[81920];
            var first = new byte[15];
            long total = 0;
            for (int n; (n = await body.ReadAsync(buffer)) > 0; total += n)
                if (total < first.Length) buffer.AsSpan(0, (int)Math.Min(n, first.Length - total)).CopyTo(first.AsSpan((int)total));
            Assert.Equal(size, total);
            Assert.Equal("<!doctype html>", System.Text.Encoding.ASCII.GetString(first));
        }
        var tiny = await client.GetByteArrayAsync(world.Https("big.test", "/tiny"));
        Assert.Equal("<!doctype ", System.Text.Encoding.ASCII.GetString(tiny));
        var page = await client.GetStringAsync(world.Http("big.test", "/page"));
        Assert.Equal(100_000, page.Length);
        Assert.StartsWith("<!doctype html>", page, StringComparison.Ordinal);
        Assert.EndsWith("</body></html>\n", page, StringComparison.Ordinal);
        Assert.Contains("<p>Lorem ipsum", page, StringComparison.Ordinal);

        await world.WhenHttpIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([size, 10, 100_000], world.HttpRequests.Select(r => r.BytesSent));
    }

    [Theory]
    [InlineData(64 * 1024, 2L * 1024 * 1024)]
    // With the kernel's own receive buffer, what the client's kernel took but its reader never asked for is sent too.
    [InlineData(null, 50L * 1024 * 1024 / 4)]
    public async Task A_client_that_hangs_up_after_one_MiB_of_a_50_MiB_page_is_sent_far_fewer_bytes(int? receiveBuffer, long most)
    {
        const long size = 50L * 1024 * 1024;
        await using var world = await MailWorld.StartAsync(Worlds.Of(Big(size)));
        using var client = world.Client(receiveBuffer: receiveBuffer);

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

        var record = Assert.Single(world.HttpRequests);
        Assert.Equal(("https", "/huge", 200), (record.Scheme, record.Path, record.Status));
        Assert.InRange(record.BytesSent, 1024 * 1024, most);
    }

    private static DomainDescription Big(long size) => new()
    {
        Name = "big.test",
        Website = new WebsiteDescription
        {
            Pages =
            [
                new PageDescription { Path = "/huge", BodyBytes = size },
                new PageDescription { Path = "/tiny", BodyBytes = 10 },
                new PageDescription { Path = "/page", BodyBytes = 100_000 },
            ],
        },
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Website_names_resolve_to_the_sites_own_address_shared_with_an_implicit_MX_or_the_address_given(bool tcp)
    {
        var page = new PageDescription { Path = "/", Body = "home" };
        await using var world = await MailWorld.StartAsync(Worlds.Of(
            Shop(),
            new DomainDescription { Name = "implicit.test", A = true, Mailboxes = ["bob"], Website = new WebsiteDescription { Pages = [page] } },
            new DomainDescription { Name = "private-web.test", NullMx = true, Website = new WebsiteDescription { Pages = [page], Address = "10.0.0.5" } },
            new DomainDescription { Name = "webonly.test", Website = new WebsiteDescription { Pages = [page] } }));
        var dns = world.Dns(tcp);
        async Task<IPAddress> A(string name) => Assert.Single((await dns.QueryAsync(name, QueryType.A)).Answers.ARecords()).Address;

        var shop = world.Website("www.shop.test");
        Assert.Equal("shop.test", shop.Domain);
        Assert.Equal(shop.Address, await A("shop.test"));
        Assert.Equal(shop.Address, await A("WWW.Shop.Test."));
        Assert.True(IPAddress.IsLoopback(shop.Address));
        Assert.NotEqual(world.Host("mx.shop.test").Address, shop.Address);
        Assert.Equal("mx.shop.test.", Assert.Single((await dns.QueryAsync("shop.test", QueryType.MX)).Answers.MxRecords()).Exchange.Value);
        var wwwMx = await dns.QueryAsync("www.shop.test", QueryType.MX);
        Assert.Equal(DnsHeaderResponseCode.NoError, wwwMx.Header.ResponseCode);
        Assert.Empty(wwwMx.Answers);
        Assert.Empty((await dns.QueryAsync("www.shop.test", QueryType.AAAA)).Answers);
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, (await dns.QueryAsync("blog.shop.test", QueryType.A)).Header.ResponseCode);

        // The implicit MX and the website share one address: SMTP at the SMTP port, HTTP at the HTTP port.
        var implicitMx = world.Host("implicit.test");
        Assert.Equal(implicitMx.Address, world.Website("implicit.test").Address);
        Assert.Equal(implicitMx.Address, await A("implicit.test"));
        Assert.Equal(implicitMx.Address, await A("www.implicit.test"));
        var (smtp, banner) = await SmtpDialogue.OpenAsync(new IPEndPoint(implicitMx.Address, world.SmtpPort));
        await using (smtp) Assert.Equal(220, banner.Code);
        using var client = world.Client();
        Assert.Equal("home", await client.GetStringAsync(world.Http("implicit.test", "/")));
        Assert.Equal("home", await client.GetStringAsync(world.Https("www.webonly.test", "/")));

        var hidden = world.Website("private-web.test");
        Assert.Equal(IPAddress.Parse("10.0.0.5"), await A("private-web.test"));
        Assert.Equal(IPAddress.Parse("10.0.0.5"), await A("www.private-web.test"));
        Assert.False(hidden.Listening);
        Assert.Null(hidden.HttpEndPoint);
        Assert.Null(hidden.HttpsEndPoint);
        Assert.Equal(4, world.Websites.Count);
        Assert.Equal(3, world.Websites.Count(w => w.Listening));
    }

    [Fact]
    public async Task A_site_without_http_has_no_listener_there_and_a_world_without_sites_starts_no_web_server()
    {
        var secure = new DomainDescription
        {
            Name = "secure.test",
            Website = new WebsiteDescription { Http = false, Pages = [new PageDescription { Path = "/", Body = "tls only" }] },
        };
        await using var world = await MailWorld.StartAsync(Worlds.Of(Shop(), secure));
        var site = world.Website("secure.test");
        Assert.Null(site.HttpEndPoint);
        Assert.Equal(new IPEndPoint(site.Address, world.HttpsPort), site.HttpsEndPoint);
        using var client = world.Client();
        Assert.Equal("tls only", await client.GetStringAsync(world.Https("secure.test", "/")));
        using var tcp = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(site.Address, world.HttpPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.NotEqual(world.HttpPort, world.HttpsPort);

        await using var mailOnly = await MailWorld.StartAsync(Worlds.Sample() with { Domains = Worlds.Sample().Domains.Where(d => d.Website is null).ToList() });
        Assert.Empty(mailOnly.Websites);
        Assert.Equal(0, mailOnly.HttpPort);
        Assert.Equal(0, mailOnly.TotalHttpRequests);
    }

    [Fact]
    public async Task Every_request_is_recorded_in_arrival_order_counted_per_domain_and_cleared_with_the_other_observations()
    {
        await using var world = await MailWorld.StartAsync(Worlds.Of(Shop(), new DomainDescription
        {
            Name = "other.test",
            Website = new WebsiteDescription { Pages = [new PageDescription { Path = "/", Body = "other" }] },
        }));
        using var crawler = world.Client(userAgent: "TestCrawler/2.0 (+https://crawler.example/bot)");
        using var anonymous = world.Client(userAgent: null);

        await crawler.GetStringAsync(world.Http("SHOP.test", "/team?ref=home&x=1"));
        using (var missing = await crawler.GetAsync(world.Https("www.shop.test", "/nope"))) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var post = await crawler.PostAsync(world.Http("shop.test", "/"), new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow);
        }
        using (var head = await crawler.SendAsync(new HttpRequestMessage(HttpMethod.Head, world.Https("shop.test", "/"))))
            Assert.Equal(Home.Length, head.Content.Headers.ContentLength);
        await anonymous.GetStringAsync(world.Http("other.test", "/"));

        Assert.Equal(
            [
                new HttpRequestRecord("shop.test", "http", "/team?ref=home&x=1", 200, "<p>Jane Doe, jane.doe@shop.test</p>".Length, "TestCrawler/2.0 (+https://crawler.example/bot)"),
                new HttpRequestRecord("www.shop.test", "https", "/nope", 404, world.HttpRequests[1].BytesSent, "TestCrawler/2.0 (+https://crawler.example/bot)"),
                new HttpRequestRecord("shop.test", "http", "/", 405, 0, "TestCrawler/2.0 (+https://crawler.example/bot)"),
                new HttpRequestRecord("shop.test", "https", "/", 200, 0, "TestCrawler/2.0 (+https://crawler.example/bot)"),
                new HttpRequestRecord("other.test", "http", "/", 200, 5, null),
            ],
            world.HttpRequests);
        Assert.True(world.HttpRequests[1].BytesSent > 0);
        Assert.Equal(4, world.HttpRequestCount("shop.test"));
        Assert.Equal(4, world.HttpRequestCount("Shop.Test."));
        Assert.Equal(1, world.HttpRequestCount("other.test"));
        Assert.Equal(0, world.HttpRequestCount("nowhere.test"));
        Assert.Equal(5, world.TotalHttpRequests);

        world.ResetObservations();
        Assert.Empty(world.HttpRequests);
        Assert.Equal(0, world.TotalHttpRequests);
        Assert.Equal(0, world.HttpRequestCount("shop.test"));
        await crawler.GetStringAsync(world.Https("shop.test", "/"));
        Assert.Equal(1, world.HttpRequestCount("shop.test"));
    }

    [Fact]
    public async Task Websites_round_trip_through_snake_case_JSON_and_mistakes_are_refused()
    {
        var world = WorldDescription.Parse("""
            { "http_port": 0, "https_port": 0, "domains": [ { "name": "a.test", "null_mx": true, "website": {
                "robots_txt": "User-agent: *\nDisallow: /x\n", "http": true, "https": false,
                "pages": [ { "path": "/", "body": "hi" }, { "path": "/big", "body_bytes": 1048576, "content_type": "text/html" },
                           { "path": "/moved", "status": 301, "location": "/", "http": true } ] } } ] }
            """);
        var site = world.Domains.Single().Website!;
        Assert.False(site.Https);
        Assert.Equal(1048576, site.Pages[1].BodyBytes);
        Assert.Equal((301, "/"), (site.Pages[2].Status, site.Pages[2].Location));
        Assert.Equal(world.ToJson(), WorldDescription.Parse(world.ToJson()).ToJson());
        Assert.Contains("\"robots_txt\"", world.ToJson());
        Assert.DoesNotContain("http_port", Worlds.Of(Shop()).ToJson());
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WorldDescription.Parse("""{"domains":[{"name":"a.test","website":{"pages":[{"path":"/","bodyy":"x"}]}}]}"""));

        var pageless = new WebsiteDescription();
        foreach (var wrong in new[]
        {
            pageless with { Pages = [new PageDescription { Path = "team" }] },
            pageless with { Pages = [new PageDescription { Path = "/", Body = "x", BodyBytes = 10 }] },
            pageless with { Pages = [new PageDescription { Path = "/" }, new PageDescription { Path = "/" }] },
            pageless with { Pages = [new PageDescription { Path = "/", Status = 42 }] },
            pageless with { Http = false, Pages = [new PageDescription { Path = "/", Http = true }] },
            pageless with { RobotsTxt = "x", Pages = [new PageDescription { Path = "/robots.txt" }] },
            pageless with { Http = false, Https = false },
            pageless with { Address = "not-an-address" },
        })
            await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(Worlds.Of(new DomainDescription { Name = "a.test", Website = wrong })));

        var implicitMxElsewhere = new DomainDescription { Name = "a.test", A = true, Website = pageless with { Address = "10.0.0.5" } };
        await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(Worlds.Of(implicitMxElsewhere)));
        await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(Worlds.Of(
            new DomainDescription { Name = "a.test", Website = pageless }, new DomainDescription { Name = "www.a.test", Website = pageless })));
        await using var split = await MailWorld.StartAsync(Worlds.Of(new DomainDescription
        {
            Name = "a.test",
            Website = pageless with { Pages = [new PageDescription { Path = "/", Http = false, Body = "tls" }, new PageDescription { Path = "/", Https = false, Status = 301, Location = "https://a.test/" }] },
        }));
        Assert.Equal(2, split.Website("a.test").Description.Pages.Count);
    }
}
