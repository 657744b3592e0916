using System.Net;
using System.Net.Http.Headers;
using PeopleEnrich.Sources.Upstream;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>How long a Retry-After asks us to wait, in either of its forms, and never longer than the cap.</summary>
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
}
