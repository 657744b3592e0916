using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>
/// The pipeline an upstream's requests go through: how long a Retry-After asks us to wait, in either of
/// its forms and never longer than the cap; and the rate limit, on the HttpClient the app builds.
/// </summary>
public sealed class UpstreamResilienceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("0", 0)]
    [InlineData("3600", 15)] // capped
    [InlineData("Sun, 29 Nov 2026 12:00:05 GMT", 5)]
    [InlineData("Sun, 29 Nov 2026 11:59:00 GMT", 0)] // already past
    [InlineData("Mon, 30 Nov 2026 12:00:00 GMT", 15)] // capped
    public void Retry_After_in_seconds_or_as_a_date_is_waited_out_up_to_the_cap(string header, int seconds)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("Retry-After", header);
        Assert.Equal(TimeSpan.FromSeconds(seconds), UpstreamResilience.RetryAfter(response, Now, Cap));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("soon")]
    public void Without_a_readable_Retry_After_the_backoff_decides(string? header)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        if (header is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", header);
        }

        Assert.Null(UpstreamResilience.RetryAfter(response, Now, Cap));
    }

    [Fact]
    public void A_parsed_header_value_is_read_the_same_way()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), UpstreamResilience.RetryAfter(response, Now, Cap));
    }

    [Fact]
    public async Task Requests_to_an_upstream_keep_to_its_rate_limit()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var settings = UpstreamSettings.For(upstream.BaseUrl, UpstreamSettings.NewKey());
        settings["Upstreams:0:MaxRequestsPerSecond"] = "1";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var services = new ServiceCollection().AddSingleton(TimeProvider.System).AddLogging().AddTemporaryDatabase().AddUpstreams(configuration).BuildServiceProvider();
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(UpstreamChannel.ClientName(0));

        // The first request takes the bucket's one token (and warms the connection). The bucket holds one
        // token and gets one a second, so the fifth request left more than two seconds after the second
        // did. Only arrivals are seen here, and the second may arrive a little after it left: 1.5 s, not 2,
        // with no limit at all these five would take milliseconds.
        foreach (var _ in Enumerable.Range(0, 5))
        {
            using var response = await http.GetAsync("v2/people/enrich/none"); // a 404: answered at once, never retried
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var times = upstream.RequestTimes;
        Assert.Equal(5, times.Count);
        Assert.True(Stopwatch.GetElapsedTime(times[1], times[4]) >= TimeSpan.FromSeconds(1.5), "four requests went out faster than one a second");
    }
}
