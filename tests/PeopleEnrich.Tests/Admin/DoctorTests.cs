extern alias SimulatedWorld;

using System.Net;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.Admin;

/// <summary>
/// The doctor run as the operator runs it (the built program, a child process) against simulated worlds, in which
/// every mail host sees this machine at 127.0.0.1, and the world's DNS server is the only resolver: nothing leaves
/// the machine, and the real block lists are never asked.
/// </summary>
public sealed class DoctorTests
{
    private const string HeloName = "verifier.peopleenrich.test";

    private static readonly string[] DefaultZones = ["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"];

    /// <summary>
    /// A world in which this machine is in good standing: 127.0.0.1's PTR names the HELO name, which resolves back to
    /// it; the sender's domain has an MX; the block lists list another address. Beside it, domains that cannot be
    /// reached: one whose hosts refuse connections, one at a private address, one that takes no mail.
    /// </summary>
    private static readonly WorldDescription Healthy = new()
    {
        BlockLists =
        [
            new BlockListDescription { Zone = "zen.spamhaus.org", Listed = ["127.0.0.9"] },
            new BlockListDescription { Zone = "b.barracudacentral.org", Listed = ["127.0.0.9"] },
            new BlockListDescription { Zone = "bl.spamcop.net" },
        ],
        Ptr = new Dictionary<string, string> { ["127.0.0.1"] = HeloName },
        Domains =
        [
            new DomainDescription { Name = "provider.test", Mx = [new MxDescription { Host = "mx.provider.test" }] },
            new DomainDescription { Name = "peopleenrich.test", Mx = [new MxDescription { Host = "mx.peopleenrich.test" }] },
            // The verifier's own name: an address (127.0.0.1) and no mail.
            new DomainDescription { Name = HeloName, A = true, NullMx = true },
            new DomainDescription { Name = "dead.test", Mx = [new MxDescription { Host = "mx.dead.test" }], RefuseConnections = true },
            new DomainDescription { Name = "private.test", Mx = [new MxDescription { Host = "mx.private.test" }], MxAddress = "10.0.0.5" },
            new DomainDescription { Name = "nullmx.test", NullMx = true },
        ],
    };

    [Fact]
    public async Task A_machine_in_good_standing_gets_only_OK_rows_exit_code_0_and_the_server_hears_EHLO_and_QUIT_only()
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, "provider.test");

        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        Assert.Equal(["DNS", "outbound SMTP", "address seen", "reverse DNS", "HELO name", "MAIL FROM domain", .. DefaultZones.Select(z => $"block list {z}"), "probing"],
            report.Rows.Select(r => r.Check));
        Assert.All(report.Rows, row => Assert.True(row.Status == "OK" && row.Advice == "", $"{row}\n{report.Run}"));
        Assert.Contains("mx.provider.test", report["outbound SMTP"].Seen);
        Assert.Equal("mx.provider.test sees us at 127.0.0.1", report["address seen"].Seen);
        Assert.Equal($"127.0.0.1 is {HeloName}, which resolves back to it", report["reverse DNS"].Seen);
        Assert.Contains("peopleenrich.test MX mx.peopleenrich.test", report["MAIL FROM domain"].Seen);
        Assert.Equal("10 OK, 0 WARN, 0 FAIL: this machine can verify.", report.Run.OutputLines[^1]);

        var mx = world.Host("mx.provider.test");
        Assert.Equal(1, mx.Sessions);
        Assert.Equal([$"EHLO {HeloName}", "QUIT"], mx.Transcript.Lines.Where(l => l.Direction == Direction.Received).Select(l => l.Text));
        Assert.Equal((0, 0), (world.TotalRcptCommands, world.DataAttempts));
        Assert.All(DefaultZones, zone => Assert.Equal(1, world.DnsQueryCount($"1.0.0.127.{zone}", "A")));
    }

    [Fact]
    public async Task A_listed_address_fails_naming_the_zone_and_a_list_that_will_not_answer_is_a_warning()
    {
        await using var world = await World.StartAsync(Healthy with
        {
            BlockLists =
            [
                new BlockListDescription { Zone = "zen.spamhaus.org", Listed = ["127.0.0.1"] },
                // What Spamhaus answers a query that came through a public resolver.
                new BlockListDescription { Zone = "refusing.bl.test", Listed = ["127.0.0.1"], Answer = "127.255.255.254" },
                new BlockListDescription { Zone = "clean.bl.test" },
            ],
        });

        var report = await DoctorAsync(world, "provider.test", new()
        {
            ["Doctor:BlockLists:0"] = "zen.spamhaus.org",
            ["Doctor:BlockLists:1"] = "refusing.bl.test",
            ["Doctor:BlockLists:2"] = "clean.bl.test",
        });

        Assert.Equal(1, report.Run.ExitCode);
        var listed = report["block list zen.spamhaus.org"];
        Assert.Equal(("FAIL", "127.0.0.1 is listed (127.0.0.2)"), (listed.Status, listed.Seen));
        Assert.Contains("Ask zen.spamhaus.org to delist 127.0.0.1 (https://check.spamhaus.org/)", listed.Advice);
        var refusing = report["block list refusing.bl.test"];
        Assert.Equal("WARN", refusing.Status);
        Assert.Contains("not known whether it is listed", refusing.Seen);
        Assert.Contains("resolver of your own", refusing.Advice);
        Assert.Equal("OK", report["block list clean.bl.test"].Status);
        Assert.DoesNotContain(report.Rows, row => row.Check.Contains("barracuda", StringComparison.Ordinal));
        Assert.Single(report.Rows, row => row.Status == "FAIL");
    }

    [Theory]
    [InlineData(null, "127.0.0.1 has no PTR record", "Ask whoever owns the address")]
    [InlineData("nowhere.peopleenrich.test", "127.0.0.1's PTR is not forward-confirmed: nowhere.peopleenrich.test resolves to nothing",
        "Give nowhere.peopleenrich.test an address record of 127.0.0.1")]
    public async Task Reverse_DNS_missing_or_not_resolving_back_fails(string? ptr, string seen, string advice)
    {
        await using var world = await World.StartAsync(Healthy with
        {
            Ptr = ptr is null ? null : new Dictionary<string, string> { ["127.0.0.1"] = ptr },
        });

        var report = await DoctorAsync(world, "provider.test");

        Assert.Equal(1, report.Run.ExitCode);
        Assert.Equal(("FAIL", seen), (report["reverse DNS"].Status, report["reverse DNS"].Seen));
        Assert.StartsWith(advice, report["reverse DNS"].Advice);
        Assert.Equal("WARN", report["HELO name"].Status);
        Assert.Equal("Fix reverse DNS, then set Smtp:HeloName to the address's reverse name.", report["HELO name"].Advice);
    }

    [Fact]
    public async Task A_HELO_name_other_than_the_reverse_name_is_a_warning_that_names_the_right_one()
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, "provider.test", new() { ["Smtp:HeloName"] = "mail.elsewhere.test" });

        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        Assert.Equal("OK", report["reverse DNS"].Status);
        var helo = report["HELO name"];
        Assert.Equal(("WARN", $"mail.elsewhere.test, but the address's reverse name is {HeloName}"), (helo.Status, helo.Seen));
        Assert.Equal($"Set Smtp:HeloName to {HeloName}.", helo.Advice);
    }

    [Fact]
    public async Task DNS_that_does_not_answer_fails_and_nothing_is_connected_to()
    {
        // The tests' default resolver: a closed port on loopback.
        var report = await DoctorAsync(null, "provider.test", new() { ["Dns:Timeout"] = "00:00:01" });

        Assert.Equal(1, report.Run.ExitCode);
        Assert.Equal("FAIL", report["DNS"].Status);
        Assert.StartsWith("127.0.0.1:9 did not answer for provider.test MX", report["DNS"].Seen);
        Assert.Contains("Dns:Servers", report["DNS"].Advice);
        Assert.Equal(("WARN", "not checked: DNS gave no mail hosts for provider.test"), (report["outbound SMTP"].Status, report["outbound SMTP"].Seen));
        Assert.Equal("WARN", report["MAIL FROM domain"].Status);
        Assert.Single(report.Rows, row => row.Status == "FAIL");
    }

    [Fact]
    public async Task Mail_hosts_that_refuse_connections_fail_outbound_SMTP()
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, "dead.test");

        Assert.Equal(1, report.Run.ExitCode);
        var smtp = report["outbound SMTP"];
        Assert.Equal(("FAIL", $"could not connect directly: mx.dead.test [{world.Host("mx.dead.test").Address}]:{world.SmtpPort} refused"), (smtp.Status, smtp.Seen));
        Assert.Contains("Smtp:Socks5Proxy", smtp.Advice);
        Assert.Equal("WARN", report["address seen"].Status);
        Assert.All(DefaultZones, zone => Assert.Equal("WARN", report[$"block list {zone}"].Status));
    }

    [Theory]
    [InlineData("private.test", null, "no public address among private.test's mail hosts (mx.private.test [10.0.0.5]): not connecting")]
    [InlineData("provider.test", "false", "no public address among provider.test's mail hosts (mx.provider.test [127.0.0.2]): not connecting")]
    public async Task The_network_guard_keeps_the_doctor_off_private_and_loopback_mail_hosts(string domain, string? allowLoopback, string seen)
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, domain, new() { ["Network:AllowLoopbackAddresses"] = allowLoopback ?? "true" });

        Assert.Equal(1, report.Run.ExitCode);
        Assert.Equal(("FAIL", seen), (report["outbound SMTP"].Status, report["outbound SMTP"].Seen));
        Assert.Equal(0, world.TotalSessions);
    }

    [Theory]
    [InlineData("verify@nowhere.test", "verify@nowhere.test: nowhere.test: the domain does not exist (NXDOMAIN)")]
    [InlineData("verify@nullmx.test", "verify@nullmx.test: nullmx.test: the domain publishes a null MX (RFC 7505): it takes no mail")]
    [InlineData("nobody", "Smtp:MailFrom 'nobody' is not an address")]
    public async Task A_sender_whose_domain_takes_no_mail_fails(string mailFrom, string seen)
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, "provider.test", new() { ["Smtp:MailFrom"] = mailFrom });

        Assert.Equal(1, report.Run.ExitCode);
        Assert.Equal(("FAIL", seen), (report["MAIL FROM domain"].Status, report["MAIL FROM domain"].Seen));
        Assert.Equal("Set Smtp:MailFrom to an address at a domain you control that has an MX.", report["MAIL FROM domain"].Advice);
        Assert.Single(report.Rows, row => row.Status == "FAIL");
    }

    [Fact]
    public async Task Through_the_proxy_the_doctor_reaches_the_mail_host_and_learns_the_address_it_sees()
    {
        await using var world = await World.StartAsync(Healthy);
        await using var proxy = Socks5Relay.Start(null, null);

        var report = await DoctorAsync(world, "provider.test", new() { ["Smtp:Socks5Proxy"] = $"socks5://127.0.0.1:{proxy.Port}" });

        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        Assert.Contains($"through the proxy 127.0.0.1:{proxy.Port}", report["outbound SMTP"].Seen);
        Assert.Equal([new IPEndPoint(world.Host("mx.provider.test").Address, world.SmtpPort)], proxy.Targets);
        Assert.Equal("OK", report["address seen"].Status);
    }

    [Fact]
    public async Task Without_domain_the_doctor_asks_about_gmail_com_of_the_configured_resolvers_only()
    {
        await using var world = await World.StartAsync(Healthy);

        var run = await ProgramRunner.RunAsync(["doctor"], ProgramRunner.EnvironmentFor(Settings(world, [])));

        // The world's DNS is the only resolver, and it knows no gmail.com: nothing went further.
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("gmail.com: the domain does not exist (NXDOMAIN); nothing to connect to", run.StandardOutput);
        Assert.Equal((1, 0), (world.DnsQueryCount("gmail.com", "MX"), world.TotalSessions));
    }

    [Theory]
    [InlineData("--domain", "not a domain", null, "--domain contains spaces")]
    [InlineData("--domain", "box.invalid", null, "--domain box.invalid is reserved")]
    [InlineData("--domain", "provider.test", "http://proxy.test:1080", "Smtp:Socks5Proxy must look like socks5://")]
    public async Task A_mistake_is_an_error_and_nothing_is_asked(string option, string value, string? proxy, string error)
    {
        await using var world = await World.StartAsync(Healthy);
        var settings = Settings(world, new() { ["Smtp:Socks5Proxy"] = proxy });

        var run = await ProgramRunner.RunAsync(["doctor", option, value], ProgramRunner.EnvironmentFor(settings));

        Assert.StartsWith(error, run.AssertFailedWithError());
        Assert.Equal((0, 0), (world.TotalDnsQueries, world.TotalSessions));
    }

    private sealed record Row(string Check, string Status, string Seen, string Advice);

    private sealed record Report(ProgramResult Run, IReadOnlyList<Row> Rows)
    {
        public Row this[string check] => Rows.SingleOrDefault(r => r.Check == check) ?? throw new KeyNotFoundException($"No row '{check}' in\n{Run}");
    }

    /// <summary>Runs "doctor --domain <paramref name="domain"/>" pointed at the world (or at no resolver at all), and reads its table.</summary>
    [Fact]
    public async Task A_service_that_paused_probing_is_a_FAIL_naming_the_hosts_that_refused_us()
    {
        await using var world = await World.StartAsync(Healthy);
        await using var app = await TestApp.StartAsync("sqlite");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using (var connection = await app.Service<PeopleEnrich.Storage.Database>().OpenAsync(CancellationToken.None))
        {
            foreach (var host in new[] { "mx.alpha.test", "mx.bravo.test", "mx.charlie.test" })
            {
                await Dapper.SqlMapper.ExecuteAsync(connection,
                    "INSERT INTO mail_host_standing (host, refused_us, why, until_at, seen_at) VALUES (@host, 1, @why, @until, @now)",
                    new { host, why = "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org", until = now + 3_600_000, now });
            }
        }

        var report = await DoctorAsync(world, "provider.test", new() { ["ConnectionStrings:Sqlite"] = app.Database.Settings["ConnectionStrings:Sqlite"] });

        Assert.Equal(1, report.Run.ExitCode);
        Assert.Equal("FAIL", report["probing"].Status);
        Assert.Contains("paused until", report["probing"].Seen);
        Assert.Contains("mx.charlie.test", report["probing"].Seen);
        Assert.Contains("delisting", report["probing"].Advice);
        Assert.All(report.Rows.Where(r => r.Check != "probing"), row => Assert.Equal("OK", row.Status)); // the pause alone fails the run
    }

    [Fact]
    public async Task Probing_turned_off_in_the_settings_is_a_warning_that_says_no_address_is_verified()
    {
        await using var world = await World.StartAsync(Healthy);

        var report = await DoctorAsync(world, "provider.test", new() { ["Smtp:Enabled"] = "false" });

        Assert.True(report.Run.ExitCode == 0, report.Run.ToString());
        Assert.Equal(("WARN", "off (Smtp:Enabled is false): no mail server is asked, so no address is verified"), (report["probing"].Status, report["probing"].Seen));
        Assert.Contains("set Smtp:Enabled to true", report["probing"].Advice);
    }

    private static async Task<Report> DoctorAsync(World? world, string domain, Dictionary<string, string?>? settings = null)
    {
        var run = await ProgramRunner.RunAsync(["doctor", "--domain", domain], ProgramRunner.EnvironmentFor(Settings(world, settings ?? [])));
        Assert.True(run.StandardError.Length == 0, run.ToString());
        var rows = run.OutputLines
            .Where(line => line.StartsWith('│'))
            .Select(line => line.Split('│')[1..^1].Select(cell => cell.Trim()).ToArray())
            .Where(cells => cells[0] != "check")
            .Select(cells => new Row(cells[0], cells[1], cells[2], cells[3]))
            .ToList();
        return new Report(run, rows);
    }

    private static Dictionary<string, string?> Settings(World? world, Dictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>(TestDatabase.OfflineSettings);
        if (world is not null)
        {
            foreach (var (key, value) in WorldSettings.For(world))
            {
                settings[key] = value;
            }
        }

        settings["Smtp:HeloName"] = HeloName;
        settings["Smtp:MailFrom"] = "verify@peopleenrich.test";
        settings["Smtp:ConnectTimeout"] = "00:00:03";
        settings["Smtp:CommandTimeout"] = "00:00:03";
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }
}
