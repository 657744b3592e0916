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
        Assert.Equal(Enum.GetValues<Scenario>().ToHashSet(), world.Domains.Select(d => d.Scenario).ToHashSet());
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
}
