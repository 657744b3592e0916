extern alias SimulatedWorld;

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SimulatedWorld::PeopleEnrich.MailWorld;
using PeopleEnrich.Tests.Infrastructure;
using PeopleEnrich.Verification.Network;
using static PeopleEnrich.Tests.Infrastructure.Enrichment;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>
/// User input decides which hosts the finder talks to, so the network guard must refuse every address
/// that is not public before a connection is made. Only loopback traffic leaves these tests: the
/// private and metadata addresses are checked to be refused before anything is submitted.
/// </summary>
public abstract class SafetyTests<TProvider> where TProvider : IDatabaseProvider
{
    private static readonly WorldDescription World = new()
    {
        Domains =
        [
            new DomainDescription { Name = "acme.test", Mx = [new MxDescription { Host = "mx.acme.test" }], Mailboxes = ["jane.doe"] },
            new DomainDescription { Name = "private.test", Mx = [new MxDescription { Host = "mx.private.test" }], MxAddress = "10.0.0.5", Mailboxes = ["jane.doe"] },
            new DomainDescription { Name = "metadata.test", Mx = [new MxDescription { Host = "mx.metadata.test" }], MxAddress = "169.254.169.254", Mailboxes = ["jane.doe"] },
        ],
    };

    [Fact]
    public async Task Without_the_loopback_allowance_not_even_the_worlds_own_servers_are_contacted()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(
            TProvider.Name, World, new Dictionary<string, string?> { ["Network:AllowLoopbackAddresses"] = "false" }, services => services.AddSingleton<ILoggerProvider>(logs));
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(Query("Jane", "Doe", "acme.test", null, Emails));

        Assert.Empty(EmailsOf(results[0]));
        Assert.False(results[0].AsObject().ContainsKey("most_probable_email"));
        Assert.True(app.World.DnsQueryCount("acme.test", "MX") >= 1, "the finder never looked the domain up: the test proves nothing");
        Assert.Equal(0, app.World.TotalSessions);
        Assert.Equal(0, app.World.TotalRcptCommands);
        var loopback = app.World.Host("mx.acme.test").Address.ToString();
        Assert.Contains(logs.Messages, m => m.Contains("mx.acme.test", StringComparison.Ordinal) && m.Contains(loopback, StringComparison.Ordinal) && m.Contains("not public", StringComparison.Ordinal));
        Assert.Equal((0L, 1000L, 1000L), await account.CreditsAsync());
    }

    [Fact]
    public async Task Mail_hosts_at_private_and_metadata_addresses_are_refused_before_any_connection()
    {
        var logs = new CapturedLogs();
        await using var app = await WorldApp.StartAsync(TProvider.Name, World, services: services => services.AddSingleton<ILoggerProvider>(logs));
        var guard = app.App.Service<NetworkGuard>();
        // Checked first, so that a broken guard fails here rather than sending a packet off the machine.
        Assert.Equal(IPAddress.Parse("10.0.0.5"), app.World.Host("mx.private.test").Address);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), app.World.Host("mx.metadata.test").Address);
        Assert.False(guard.IsAllowed(app.World.Host("mx.private.test").Address));
        Assert.False(guard.IsAllowed(app.World.Host("mx.metadata.test").Address));
        Assert.True(guard.IsAllowed(app.World.Host("mx.acme.test").Address)); // loopback is allowed here: the refusals are the guard's judgement
        var account = await app.App.CreateAccountAsync();

        var results = await account.EnrichAsync(
            Query("Jane", "Doe", "private.test", null, Emails),
            Query("Jane", "Doe", "metadata.test", null, Emails),
            Query("Jane", "Doe", "acme.test", null, Emails));

        Assert.Empty(EmailsOf(results[0]));
        Assert.Empty(EmailsOf(results[1]));
        Assert.Equal([("jane.doe@acme.test", "DELIVERABLE")], EmailsOf(results[2])); // the same person at a reachable domain is found
        foreach (var (domain, host, address) in new[] { ("private.test", "mx.private.test", "10.0.0.5"), ("metadata.test", "mx.metadata.test", "169.254.169.254") })
        {
            Assert.False(app.World.Host(host).Listening);
            Assert.Equal(0, app.World.Host(host).Sessions);
            Assert.True(app.World.DnsQueryCount(domain, "MX") >= 1, $"{domain} was never looked up: the test proves nothing");
            Assert.Contains(logs.Messages, m => m.Contains(host, StringComparison.Ordinal) && m.Contains(address, StringComparison.Ordinal) && m.Contains("not public", StringComparison.Ordinal));
            // Refused at the prober's check: never so far as the guard's own connect.
            Assert.DoesNotContain(logs.Messages, m => m.Contains($"Refused to connect to {address}", StringComparison.Ordinal));
        }

        // Every session was acme.test's (a cold domain may get a second one while its probe is out: that is timing, not safety).
        Assert.Equal(app.World.TotalSessions, app.World.Host("mx.acme.test").Sessions);
        Assert.True(app.World.TotalSessions >= 1);
        Assert.Equal(0, app.World.DataAttempts);
    }
}

public sealed class SqliteSafetyTests : SafetyTests<Sqlite>;

public sealed class PostgresSafetyTests : SafetyTests<Postgres>;

/// <summary>The guard's address classification: pure function calls, no traffic.</summary>
public sealed class NetworkGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("::1")]
    [InlineData("10.0.0.1")]
    [InlineData("10.255.255.255")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("192.168.255.255")]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.0.1")]
    [InlineData("192.0.2.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.51.100.1")]
    [InlineData("203.0.113.1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:192.168.1.1")]
    [InlineData("::10.0.0.1")] // IPv4-compatible (deprecated)
    [InlineData("64:ff9b::a00:1")] // NAT64 of 10.0.0.1
    public void Not_public(string address) => Assert.False(NetworkGuard.IsPublic(IPAddress.Parse(address)), $"{address} counted as public");

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("169.253.255.255")]
    [InlineData("192.0.3.1")]
    [InlineData("192.169.0.1")]
    [InlineData("198.20.0.1")]
    [InlineData("223.255.255.254")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("2606:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    public void Public(string address) => Assert.True(NetworkGuard.IsPublic(IPAddress.Parse(address)), $"{address} counted as not public");

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("::1", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("10.0.0.5", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("::ffff:10.0.0.5", false)]
    [InlineData("fe80::1", false)]
    public void The_loopback_allowance_lets_loopback_through_and_nothing_else(string address, bool allowed)
    {
        var guard = Guard(new NetworkOptions { AllowLoopbackAddresses = true });
        Assert.Equal(allowed, guard.IsAllowed(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.0.0.5")]
    [InlineData("169.254.169.254")]
    public void Without_allowances_only_public_addresses_are_allowed(string address) =>
        Assert.False(Guard(new NetworkOptions()).IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("169.254.169.254")]
    [InlineData("127.0.0.1")]
    public async Task Connect_refuses_a_non_public_address_before_opening_a_socket(string address)
    {
        var guard = Guard(new NetworkOptions());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync(); // were the guard to let it through, the cancelled token still stops the connect before a packet
        var refused = await Assert.ThrowsAsync<BlockedAddressException>(() => guard.ConnectAsync(IPAddress.Parse(address), 25, TimeSpan.FromSeconds(1), null, cancelled.Token));
        Assert.Equal(IPAddress.Parse(address), refused.Address);
    }

    private static NetworkGuard Guard(NetworkOptions options) => new(Options.Create(options), NullLogger<NetworkGuard>.Instance);
}

/// <summary>Keeps every log line the app writes, formatted, for tests to look at.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly ConcurrentQueue<Exception> _exceptions = new();

    public IReadOnlyList<string> Messages => _messages.ToArray();

    /// <summary>The exceptions logged with the messages.</summary>
    public IReadOnlyList<Exception> Exceptions => _exceptions.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            logs._messages.Enqueue(formatter(state, exception));
            if (exception is not null)
            {
                logs._exceptions.Enqueue(exception);
            }
        }
    }
}
