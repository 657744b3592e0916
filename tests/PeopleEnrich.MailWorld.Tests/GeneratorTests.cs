using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using DnsClient;

namespace PeopleEnrich.MailWorld.Tests;

public sealed class GeneratorTests
{
    private static readonly WorldGeneratorOptions Big = new() { Seed = 42, DomainCount = 40, PeopleCount = 400 };

    [Fact]
    public void The_same_seed_gives_the_same_world_and_another_seed_another()
    {
        var a = WorldGenerator.Generate(Big);
        var b = WorldGenerator.Generate(Big);
        var c = WorldGenerator.Generate(Big with { Seed = 43 });
        Assert.Equal(a.Description.ToJson(), b.Description.ToJson());
        Assert.Equal(a.People, b.People);
        Assert.Equal(a.Domains, b.Domains);
        Assert.NotEqual(a.Description.ToJson(), c.Description.ToJson());
    }

    [Fact]
    public void A_big_world_mixes_every_scenario_and_its_ground_truth_matches_the_mailboxes()
    {
        var world = WorldGenerator.Generate(Big);
        Assert.Equal(40, world.Domains.Count);
        Assert.Equal(400, world.People.Count);
        // Every scenario but those copied from real mail software, which come only when asked for.
        Assert.Equal(Enum.GetValues<Scenario>().Where(s => s < Scenario.Postfix).ToHashSet(), world.Domains.Select(d => d.Scenario).ToHashSet());
        Assert.True(world.Domains.Select(d => d.Pattern).Distinct().Count() >= 5);
        Assert.Equal(world.Domains.Count, world.Domains.Select(d => d.Name).Distinct().Count());

        var described = world.Description.Domains.ToDictionary(d => d.Name);
        foreach (var person in world.People)
        {
            var domain = world.Domain(person.Domain);
            Assert.True(domain.Exists == described.ContainsKey(person.Domain));
            if (person.Address is null) continue;
            Assert.True(domain.AcceptsMail);
            var local = person.Address[..person.Address.IndexOf('@')];
            Assert.StartsWith(domain.Pattern.Apply(person.FirstName, person.LastName), local, StringComparison.Ordinal);
            Assert.EndsWith("@" + person.Domain, person.Address, StringComparison.Ordinal);
            Assert.Contains(local, described[person.Domain].Mailboxes);
        }
        Assert.All(world.People.Where(p => !world.Domain(p.Domain).AcceptsMail), p => Assert.Null(p.Address));
        Assert.Contains(world.People, p => p.Address is null && world.Domain(p.Domain).AcceptsMail);
        Assert.Equal(world.People.Count(p => p.Address is not null), world.People.Where(p => p.Address is not null).Select(p => p.Address).Distinct().Count());
        Assert.All(world.Domains, d => Assert.Contains(world.People, p => p.Domain == d.Name));
    }

    [Theory]
    [InlineData(AddressPattern.FirstDotLast, "jane.doe")]
    [InlineData(AddressPattern.FLast, "jdoe")]
    [InlineData(AddressPattern.First, "jane")]
    [InlineData(AddressPattern.FirstLast, "janedoe")]
    [InlineData(AddressPattern.FDotLast, "j.doe")]
    [InlineData(AddressPattern.LastDotFirst, "doe.jane")]
    [InlineData(AddressPattern.FirstUnderscoreLast, "jane_doe")]
    [InlineData(AddressPattern.LastF, "doej")]
    [InlineData(AddressPattern.FirstDotL, "jane.d")]
    [InlineData(AddressPattern.Last, "doe")]
    public void Patterns_build_local_parts(AddressPattern pattern, string expected) =>
        Assert.Equal(expected, pattern.Apply("Jane", "Doe"));

    [Fact]
    public async Task A_generated_world_runs_and_verifies_its_people_on_an_ordinary_domain()
    {
        var generated = WorldGenerator.Generate(Big with { TarpitMs = 500 });
        await using var world = await MailWorld.StartAsync(generated.Description);
        var dns = world.Dns(tcp: false);

        foreach (var d in generated.Domains)
        {
            var mx = await dns.QueryAsync(d.Name, QueryType.MX);
            Assert.Equal(d.Exists ? DnsHeaderResponseCode.NoError : DnsHeaderResponseCode.NotExistentDomain, mx.Header.ResponseCode);
        }

        var normal = generated.Domains.First(d => d.Scenario == Scenario.Normal);
        var people = generated.People.Where(p => p.Domain == normal.Name).ToList();
        var exchange = (await dns.QueryAsync(normal.Name, QueryType.MX)).Answers.MxRecords().Single().Exchange.Value;
        var address = (await dns.QueryAsync(exchange, QueryType.A)).Answers.ARecords().Single().Address;
        var (smtp, _) = await SmtpDialogue.OpenAsync(new System.Net.IPEndPoint(address, world.SmtpPort));
        await using var __ = smtp;
        await smtp.SendAsync("EHLO verifier.example");
        await smtp.SendAsync("MAIL FROM:<>");
        foreach (var p in people)
        {
            var probe = p.Address ?? $"{normal.Pattern.Apply(p.FirstName, p.LastName)}@{normal.Name}";
            var reply = await smtp.SendAsync($"RCPT TO:<{probe}>");
            Assert.Equal(p.Address is null ? 550 : 250, reply.Code);
        }
        Assert.Equal(0, world.DataAttempts);
    }

    [Fact]
    public void The_sample_world_and_a_generated_world_round_trip_through_snake_case_JSON()
    {
        var sample = Worlds.Sample();
        Assert.Contains(sample.Domains, d => d.Behaviour == Behaviour.CatchAll);
        Assert.Contains(sample.Domains, d => d.NullMx);
        Assert.Contains(sample.Domains, d => d is { Behaviour: Behaviour.PolicyBlock, BlockAt: BlockAt.MailFrom });
        Assert.Contains(sample.Domains, d => d.Starttls == StartTls.Required);
        Assert.Contains(sample.Domains, d => d.Behaviour == Behaviour.Postfix);
        Assert.Contains(sample.Domains, d => d is { Behaviour: Behaviour.PolicyBlock, BlockAt: BlockAt.Rcpt });
        Assert.Contains(sample.Domains, d => d.RefuseConnections);
        Assert.Equal(["127.0.0.2"], Assert.Single(sample.BlockLists!).Listed);
        Assert.Equal("client.peopleenrich.test", sample.Ptr!["127.0.0.1"]);
        Assert.Equal(sample.ToJson(), WorldDescription.Parse(sample.ToJson()).ToJson());

        var json = WorldGenerator.Generate(Big).Description.ToJson();
        Assert.Contains("\"null_mx\": true", json);
        Assert.Contains("\"behaviour\": \"catch_all\"", json);
        Assert.Equal(json, WorldDescription.Parse(json).ToJson());
    }

    [Fact]
    public void Absent_fields_take_their_documented_defaults()
    {
        var world = WorldDescription.Parse("""{"domains":[{"name":"a.test","mx":[{"host":"mx.a.test"}],"website":{"pages":[{"path":"/"}]}}]}""");
        Assert.Equal((300, 60, 0, 0), (world.Ttl, world.IdleTimeoutSeconds, world.HttpPort, world.HttpsPort));
        var domain = world.Domains.Single();
        Assert.Equal((300, 1, 3, "452 4.5.3 Too many recipients", 10_000), (domain.GreylistSeconds, domain.MaxSessions, domain.MaxRecipients, domain.RateLimitReply, domain.TarpitMs));
        Assert.Equal(10, domain.Mx!.Single().Preference);
        Assert.Equal((null, null, false, null, BlockAt.Connect), (domain.ErrorLimits, domain.EffectiveErrorLimits, domain.RefuseConnections, domain.ReplyDelayMs, domain.BlockAt));
        Assert.Null(world.BlockLists);
        Assert.Null(world.Ptr);
        var refusing = WorldDescription.Parse("""{"domains":[{"name":"a.test","a":true,"refuse_connections":true}]}""");
        Assert.True(refusing.Domains.Single().RefuseConnections);
        Assert.Contains("\"refuse_connections\": true", refusing.ToJson());
        Assert.DoesNotContain("refuse_connections", world.ToJson());
        Assert.DoesNotContain("error_limits", world.ToJson());
        Assert.True(domain.Website!.Http);
        Assert.True(domain.Website.Https);
        Assert.Equal((200, "text/html; charset=utf-8"), (domain.Website.Pages[0].Status, domain.Website.Pages[0].ContentType));
    }

    [Fact]
    public async Task Unknown_fields_and_contradictions_are_refused()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WorldDescription.Parse("""{"domains":[{"name":"a.test","behavior":"normal"}]}"""));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WorldDescription.Parse("""{"domains":[{"name":"a.test","behaviour":"weird"}]}"""));
        var contradiction = WorldDescription.Parse("""{"domains":[{"name":"a.test","null_mx":true,"mx":[{"host":"mx.a.test"}]}]}""");
        await Assert.ThrowsAsync<InvalidDataException>(() => MailWorld.StartAsync(contradiction));
    }

    /// <summary>
    /// The finder's accuracy test and the website tests run on these seeds' worlds: the people, their addresses, and each
    /// domain's scenario, pattern, behaviour, MX hosts and mailboxes must stay what they were when these were pinned
    /// (computed at f14f9ca, before the real-world behaviours, and again after them: the same).
    /// </summary>
    [Theory]
    [InlineData(42, 40, 400, false, "35D7A5403DB030E22515A190FBCC290889504BBF7A61F88DDD95F4D152F2086B")]
    [InlineData(2026, 40, 400, false, "40AC5C9222AB07E0432A78F66B3E388CB8B04C083ADE6D5847B0D972505E0594")]
    [InlineData(2026, 16, 100, true, "2A61966A744C39C22C22D012D7D74A943426D729FE151E6697D250C4479396E6")]
    public void Existing_options_keep_giving_the_worlds_they_gave(int seed, int domains, int people, bool websites, string expectedHash)
    {
        var world = WorldGenerator.Generate(new WorldGeneratorOptions
        {
            Seed = seed, DomainCount = domains, PeopleCount = people, Websites = websites, WebsiteShare = 1.0, CountryDomainShare = 0.5,
            TarpitMs = 5_000, SlowReplyDelayMs = 30, GreylistSeconds = 1,
        });
        var text = new StringBuilder();
        foreach (var d in world.Domains) text.Append($"{d.Name} {d.Scenario} {d.Pattern}\n");
        foreach (var p in world.People) text.Append($"{p.FirstName} {p.LastName} {p.Domain} {p.Address}\n");
        foreach (var d in world.Description.Domains)
            text.Append($"{d.Name} {d.Behaviour} {(d.Behaviour == Behaviour.Greylist ? d.GreylistSeconds : "")} {d.NullMx} {d.A} {d.MxAddress} {string.Join(',', d.Mx?.Select(m => $"{m.Preference}:{m.Host}") ?? [])} {string.Join(',', d.Mailboxes)}\n");
        Assert.Equal(expectedHash, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))));
    }

    [Fact]
    public async Task Real_world_behaviours_add_Postfix_postgrey_block_listed_and_dead_MX_domains_with_their_ground_truth()
    {
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions { Seed = 5, DomainCount = 30, PeopleCount = 150, RealWorldBehaviours = true });
        Assert.Equal(Enum.GetValues<Scenario>().ToHashSet(), generated.Domains.Select(d => d.Scenario).ToHashSet());
        Assert.DoesNotContain(WorldGenerator.Generate(Big).Domains, d => d.Scenario >= Scenario.Postfix);

        var described = generated.Description.Domains.ToDictionary(d => d.Name);
        DomainDescription Of(Scenario s) => described[generated.Domains.First(d => d.Scenario == s).Name];
        Assert.Equal(new ErrorLimits { SoftErrorLimit = 10, ErrorSleepMs = 1000, HardErrorLimit = 20 }, Of(Scenario.Postfix).EffectiveErrorLimits);
        Assert.Equal((Behaviour.Greylist, 300), (Of(Scenario.Postgrey).Behaviour, Of(Scenario.Postgrey).GreylistSeconds));
        Assert.Equal((Behaviour.PolicyBlock, BlockAt.Rcpt), (Of(Scenario.BlockListed).Behaviour, Of(Scenario.BlockListed).BlockAt));
        Assert.True(Of(Scenario.DeadMx).RefuseConnections);
        Assert.Equal(2, Of(Scenario.DeadMx).Mx!.Count);
        foreach (var s in new[] { Scenario.Postfix, Scenario.Postgrey, Scenario.BlockListed, Scenario.DeadMx })
        {
            var truth = generated.Domains.First(d => d.Scenario == s);
            Assert.True(truth.Exists && truth.AcceptsMail, s.ToString());
            Assert.Equal(s is Scenario.Postfix or Scenario.Postgrey, truth.Verifiable);
            Assert.Contains(generated.People, p => p.Domain == truth.Name && p.Address is not null);
        }
        Assert.Equal(generated.Description.ToJson(), WorldDescription.Parse(generated.Description.ToJson()).ToJson());

        // The world runs them: a person of each, asked over SMTP from a new session.
        await using var world = await MailWorld.StartAsync(generated.Description);
        async Task<Reply> Ask(Scenario s)
        {
            var person = generated.People.First(p => p.Domain == generated.Domains.First(d => d.Scenario == s).Name && p.Address is not null);
            await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.HostsOf(person.Domain)[0].EndPoint!);
            return await smtp.SendAsync($"RCPT TO:<{person.Address}>");
        }
        Assert.Equal("250 2.1.5 Ok", (await Ask(Scenario.Postfix)).Last);
        Assert.Contains("Greylisted, see http://postgrey.schweikert.ch/help/", (await Ask(Scenario.Postgrey)).Last);
        Assert.StartsWith("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org", (await Ask(Scenario.BlockListed)).Last);
        foreach (var host in world.HostsOf(generated.Domains.First(d => d.Scenario == Scenario.DeadMx).Name))
        {
            using var client = new TcpClient(AddressFamily.InterNetwork);
            var refused = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(new IPEndPoint(host.Address, world.SmtpPort)));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
    }

    [Fact]
    public async Task People_without_a_mailbox_have_no_guess_of_theirs_taken_so_the_server_rejects_every_one()
    {
        var generated = WorldGenerator.Generate(Big with { PeopleWithoutMailbox = 0.25 });
        var accepting = generated.People.Where(p => generated.Domain(p.Domain).AcceptsMail).ToList();
        var without = accepting.Where(p => p.Address is null).ToList();
        var share = (double)without.Count / accepting.Count;
        Assert.InRange(share, 0.18, 0.32);

        var mailboxes = generated.Description.Domains.ToDictionary(d => d.Name, d => d.Mailboxes.ToHashSet());
        IEnumerable<string> Guesses(Person p) => AddressPatterns.All.Select(pattern => pattern.Apply(p.FirstName, p.LastName));
        foreach (var person in without)
            Assert.DoesNotContain(Guesses(person), g => mailboxes[person.Domain].Contains(g));
        foreach (var address in generated.People.Select(p => p.Address).OfType<string>())
            Assert.Contains(address[..address.IndexOf('@')], mailboxes[address[(address.IndexOf('@') + 1)..]]);

        // Over SMTP at an ordinary domain: every guess at someone without a mailbox is refused, their colleagues accepted.
        await using var world = await MailWorld.StartAsync(generated.Description);
        var normal = generated.Domains.Where(d => d.Scenario == Scenario.Normal).First(d => without.Any(p => p.Domain == d.Name));
        await using var smtp = await SmtpDialogue.OpenForRcptAsync(world.HostsOf(normal.Name)[0].EndPoint!, sender: "");
        foreach (var person in generated.People.Where(p => p.Domain == normal.Name))
        {
            if (person.Address is { } address) Assert.Equal(250, (await smtp.SendAsync($"RCPT TO:<{address}>")).Code);
            else
                foreach (var guess in Guesses(person).Distinct()) Assert.Equal(550, (await smtp.SendAsync($"RCPT TO:<{guess}@{normal.Name}>")).Code);
        }
    }

    [Fact]
    public void A_crowded_domain_keeps_the_guesses_at_people_without_a_mailbox_apart_from_its_mailboxes()
    {
        // 300 people at one domain whose addresses are last names only: every name's guesses meet colleagues' mailboxes.
        var generated = WorldGenerator.Generate(new WorldGeneratorOptions { Seed = 9, DomainCount = 1, PeopleCount = 300, PeopleWithoutMailbox = 0.5 });
        var domain = generated.Domains.Single();
        Assert.True(domain.AcceptsMail);
        Assert.Equal(AddressPattern.Last, domain.Pattern);
        Assert.Equal(300, generated.People.Count);
        var mailboxes = generated.Description.Domains.Single().Mailboxes.ToHashSet();
        var without = generated.People.Where(p => p.Address is null).ToList();
        Assert.InRange(without.Count, 100, 200);
        foreach (var person in without)
            Assert.DoesNotContain(AddressPatterns.All, pattern => mailboxes.Contains(pattern.Apply(person.FirstName, person.LastName)));
    }
}
