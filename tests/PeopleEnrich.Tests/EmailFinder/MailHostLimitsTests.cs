extern alias SimulatedWorld;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Cluster;
using PeopleEnrich.Knowledge;
using PeopleEnrich.Storage;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Dns;
using PeopleEnrich.Verification.Network;
using PeopleEnrich.Verification.Smtp;
using SimulatedWorld::PeopleEnrich.MailWorld;
using World = SimulatedWorld::PeopleEnrich.MailWorld.MailWorld;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// A mail host's recipient limit learnt from its "too many recipients" is kept in the database under the host and its
/// mail service: a second process, asking another domain on the same service (Microsoft 365 gives each domain a host
/// of its own), ends its sessions after one recipient without being told 452 again, until Smtp:HostLimitsTtl has passed.
/// Each "process" here has its own connections to one real database, its own prober and lanes, and the test's clock.
/// </summary>
public abstract class MailHostLimitsTests<TProvider> : IAsyncLifetime where TProvider : IDatabaseProvider
{
    private static readonly TimeSpan Ttl = TimeSpan.FromDays(7);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly List<IAsyncDisposable> _owned = [];
    private TestDatabase _database = null!;
    private World _world = null!;

    private static readonly string[] Domains = ["alpha.test", "beta.test", "gamma.test"];

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TProvider.Name);
        _world = await World.StartAsync(new WorldDescription
        {
            Domains = Domains.Select(domain => new DomainDescription
            {
                Name = domain, Behaviour = Behaviour.M365, Mailboxes = ["ada.lovelace", "alan.turing", "grace.hopper"],
                Mx = [new MxDescription { Host = HostOf(domain) }],
            }).ToList(),
        });
        await new Migrator(Process(), _clock, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        await _world.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_limit_learnt_by_one_process_serves_another_at_a_different_domain_of_the_same_service_until_the_ttl()
    {
        var (first, second) = (Lanes(), Lanes());

        // The first process learns it: its second recipient is told "452 too many recipients" once, then asked in a session of its own.
        await AskAllAsync(first, "alpha.test");
        Assert.Equal(1, TooManyRecipients("alpha.test"));
        Assert.Equal(3, RcptsAt("alpha.test") - 1);

        // The second process, at another domain whose host is another of the service's, asks each in a session of its own at once.
        await AskAllAsync(second, "beta.test");
        Assert.Equal(0, TooManyRecipients("beta.test"));
        Assert.Equal(3, RcptsAt("beta.test"));
        Assert.Equal(3, _world.Host(HostOf("beta.test")).Transcript.Sessions.Count);

        // Past Smtp:HostLimitsTtl the limit is not trusted any more: the service's next host teaches it again.
        _clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        await AskAllAsync(second, "gamma.test");
        Assert.Equal(1, TooManyRecipients("gamma.test"));
        Assert.Equal(0, _world.DataAttempts);
    }

    private static string HostOf(string domain) => $"{domain.Replace('.', '-')}.mail.protection.outlook.test";

    private async Task AskAllAsync(DomainSessions lanes, string domain)
    {
        var host = _world.Host(HostOf(domain));
        var routing = new MailRouting.Hosts([new Verification.Dns.MailHost(host.Name, 0, [host.Address])], Implicit: false);
        var walk = new EveryRecipient([$"ada.lovelace@{domain}", $"alan.turing@{domain}", $"grace.hopper@{domain}"]);
        var result = await lanes.AskAsync(domain, routing, probe: null, walk, CancellationToken.None);

        Assert.Null(result.Failure);
        Assert.Equal(3, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(RcptOutcome.Accepted, r.Outcome));
    }

    private int TooManyRecipients(string domain) =>
        _world.Host(HostOf(domain)).Transcript.Lines.Count(l => l.Direction == Direction.Sent && l.Text.StartsWith("452", StringComparison.Ordinal));

    private int RcptsAt(string domain) =>
        _world.Host(HostOf(domain)).Transcript.Rcpts.Count;

    /// <summary>One process's lanes and prober, on a database connection of its own.</summary>
    private DomainSessions Lanes()
    {
        var database = Process();
        var options = Options.Create(new SmtpOptions
        {
            Port = _world.SmtpPort, HeloName = "verifier.peopleenrich.test", StartTls = false,
            ConnectTimeout = TimeSpan.FromSeconds(3), CommandTimeout = TimeSpan.FromSeconds(3),
            // The test's clock does not move by itself: no pacing between sessions, no sending budget.
            MinSessionGap = TimeSpan.Zero, MaxRcptPerMinute = 0, MaxRcptPerDay = 0, HostLimitsTtl = Ttl,
        });
        var leases = new ClusterLeases(database, _clock, Options.Create(new ClusterOptions()), NullLogger<ClusterLeases>.Instance);
        var budget = new SendingBudget(new ClusterBudget(database, _clock), options);
        var guard = new NetworkGuard(Options.Create(new NetworkOptions { AllowLoopbackAddresses = true }), NullLogger<NetworkGuard>.Instance);
        var prober = new MailboxProber(guard, new MailHostMemory(database, _clock, options), new MailHostLimits(database, _clock, options),
            new HostSlots(leases, new ClusterPacer(database, _clock), options), budget, options, _clock, NullLogger<MailboxProber>.Instance);
        var knowledge = new DomainKnowledge(database, _clock, Options.Create(new KnowledgeOptions()));
        var lanes = new DomainSessions(prober, leases, new SharedProbeAnswers(knowledge), new SharedLaneHandover(database, _clock, NullLogger<SharedLaneHandover>.Instance), budget, options, _clock, NullLogger<DomainSessions>.Instance);
        _owned.Add(lanes);
        return lanes;
    }

    private Database Process()
    {
        var process = Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(_database.Settings).Build());
        _owned.Add(process);
        return process;
    }

    /// <summary>Asks every recipient given, one after another, whatever the answers.</summary>
    private sealed class EveryRecipient(IReadOnlyList<string> addresses) : IRecipientWalk
    {
        private int _asked;
        private int _answered;

        public bool IsDone => _answered == addresses.Count;

        public Recipient? Peek(LaneView lane) => _asked < addresses.Count ? new Recipient(addresses[_asked], null) : null;

        public void Asking(Recipient recipient, LaneView lane) => _asked++;

        public void Answered(Recipient recipient, RcptObservation observation, LaneView lane) => _answered++;
    }
}

public sealed class MailServiceTests
{
    [Theory]
    [InlineData("alpha-test.mail.protection.outlook.com", "mail.protection.outlook.com")]
    [InlineData("mx1.acme.com", "acme.com")]
    [InlineData("MX.Acme.Com.", "acme.com")]
    [InlineData("acme.com", null)]
    [InlineData("acme.co.uk", null)] // its own host: co.uk is a public suffix, no service
    [InlineData("mx.acme.co.uk", "acme.co.uk")]
    public void A_host_s_mail_service_is_its_parent_domain_when_its_name_has_three_labels_or_more_and_it_is_no_public_suffix(string host, string? service) =>
        Assert.Equal(service, MailService.Of(host));
}

public sealed class SqliteMailHostLimitsTests : MailHostLimitsTests<Sqlite>;

public sealed class PostgresMailHostLimitsTests : MailHostLimitsTests<Postgres>;
