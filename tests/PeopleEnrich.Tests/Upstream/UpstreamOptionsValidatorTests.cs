using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Sources.Upstream;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>Bad upstream settings are refused at start, with a message that names the key to fix.</summary>
public sealed class UpstreamOptionsValidatorTests
{
    private const string Key = "pe_secret_upstream_key_0123456789";

    [Fact]
    public void Good_settings_and_no_upstreams_at_all_pass()
    {
        Assert.True(Validate().Succeeded);
        Assert.True(Validate(Good("a"), Good("b", "https://tamtam.example/api/")).Succeeded);
    }

    [Theory]
    [InlineData("", "Upstreams:1:Name must be set")]
    [InlineData("peer two", "Upstreams:1:Name may hold only letters, digits")]
    [InlineData("PEER", "Upstreams:1:Name is already the name of Upstreams:0")]
    public void Each_upstream_needs_a_name_of_its_own(string name, string message)
    {
        var failure = Assert.Single(Validate(Good("peer"), Good(name)).Failures!);
        Assert.StartsWith(message, failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("peer.example/api")]
    [InlineData("ftp://peer.example/api")]
    [InlineData("/api")]
    public void The_base_url_must_be_an_absolute_http_url(string url) =>
        Assert.StartsWith("Upstreams:0:BaseUrl must be an absolute http:// or https:// URL", Assert.Single(Validate(Good("peer", url)).Failures!));

    [Theory]
    [InlineData("https://user:" + Key + "@peer.example/api")]
    [InlineData("https://peer.example/api?key=" + Key)]
    [InlineData("https://peer.example/api#x")]
    public void A_base_url_with_credentials_or_a_query_is_refused_without_repeating_it(string url)
    {
        var failure = Assert.Single(Validate(Good("peer", url)).Failures!);
        Assert.StartsWith("Upstreams:0:BaseUrl must have no user information, query or fragment", failure);
        Assert.DoesNotContain(Key, failure);
    }

    [Theory]
    [InlineData("", "Upstreams:0:ApiKey must be set.")]
    [InlineData("pe_with a space", "Upstreams:0:ApiKey must be printable ASCII without spaces")]
    [InlineData("pe_line\r\nX-Injected: 1", "Upstreams:0:ApiKey must be printable ASCII without spaces")]
    public void The_key_must_be_set_and_fit_in_a_header_and_is_never_repeated(string key, string message)
    {
        var upstream = Good("peer");
        upstream.ApiKey = key;
        var failure = Assert.Single(Validate(upstream).Failures!);
        Assert.StartsWith(message, failure);
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, failure);
        }
    }

    [Fact]
    public void Fields_must_be_the_contracts_field_names()
    {
        var upstream = Good("peer");
        upstream.Fields = ["contact.phones", "contact.email"];
        Assert.Equal(["Upstreams:0:Fields:1 must be contact.emails or contact.phones."], Validate(upstream).Failures!);
    }

    [Fact]
    public void Rates_times_and_retries_out_of_range_each_name_their_key()
    {
        var upstream = Good("peer");
        upstream.MaxRequestsPerSecond = 0;
        upstream.Timeout = TimeSpan.Zero;
        upstream.PollInterval = TimeSpan.FromSeconds(-1);
        upstream.BatchWindow = TimeSpan.FromSeconds(-1);
        upstream.MaxRetries = 11;
        upstream.RetryDelay = TimeSpan.FromSeconds(5);
        upstream.MaxRetryDelay = TimeSpan.FromSeconds(1);
        upstream.BreakDuration = TimeSpan.FromMilliseconds(100);

        var failures = Validate(upstream).Failures!.ToList();

        foreach (var key in new[] { "MaxRequestsPerSecond", "Timeout", "PollInterval", "BatchWindow", "MaxRetries", "MaxRetryDelay", "BreakDuration" })
        {
            Assert.Contains(failures, f => f.StartsWith($"Upstreams:0:{key} must be", StringComparison.Ordinal));
        }

        Assert.Equal(7, failures.Count);
    }

    [Theory]
    [InlineData("contract")]
    [InlineData("Contract")]
    [InlineData("lookup")]
    public void The_protocol_is_any_registered_one_whatever_its_case_and_the_contract_by_default(string protocol)
    {
        Assert.Equal("contract", new UpstreamOptions().Protocol);
        var upstream = Good("peer");
        upstream.Protocol = protocol;
        Assert.True(Validate(upstream).Succeeded);
    }

    [Theory]
    [InlineData("")]
    [InlineData("carrier-pigeon")]
    public void An_unknown_protocol_is_refused_with_the_ones_there_are(string protocol)
    {
        var upstream = Good("peer");
        upstream.Protocol = protocol;
        Assert.Equal(["Upstreams:0:Protocol must be one of: contract, lookup."], Validate(upstream).Failures!);
    }

    [Fact]
    public void An_attempt_may_not_take_longer_than_the_whole_request()
    {
        var upstream = Good("peer");
        upstream.AttemptTimeout = upstream.Timeout + TimeSpan.FromSeconds(1);
        Assert.StartsWith("Upstreams:0:AttemptTimeout must be from", Assert.Single(Validate(upstream).Failures!));
    }

    private static UpstreamOptions Good(string name, string url = "http://127.0.0.1:8080/api") => new() { Name = name, BaseUrl = url, ApiKey = Key };

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(params UpstreamOptions[] upstreams)
    {
        // The protocols as the app registers them, and one more as a test (or a new provider) adds it.
        using var services = new ServiceCollection()
            .AddUpstreams(new ConfigurationBuilder().Build())
            .AddUpstreamProtocol("lookup", channel => new ContractUpstreamAdapter(channel))
            .BuildServiceProvider();
        return new UpstreamOptionsValidator(services.GetRequiredService<UpstreamProtocols>()).Validate(null, new UpstreamsOptions { Upstreams = [.. upstreams] });
    }
}
