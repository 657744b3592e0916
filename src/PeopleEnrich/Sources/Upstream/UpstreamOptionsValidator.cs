using Microsoft.Extensions.Options;
using PeopleEnrich.Answers;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>
/// Refuses to start on an upstream that could not work, naming the offending key (Upstreams:N:…).
/// Values are not repeated in the messages, since a mistyped key could land in any of them.
/// </summary>
public sealed class UpstreamOptionsValidator(UpstreamProtocols protocols) : IValidateOptions<UpstreamsOptions>
{
    // Polly's own bounds, checked here so that the message names our key instead of a strategy option.
    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan ShortestBreak = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(1);
    private const int MostRetries = 10;

    public ValidateOptionsResult Validate(string? name, UpstreamsOptions options)
    {
        var failures = new List<string>();
        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Upstreams.Count; i++)
        {
            var upstream = options.Upstreams[i];
            var key = $"{UpstreamsOptions.Section}:{i}:";
            if (string.IsNullOrWhiteSpace(upstream.Name))
            {
                failures.Add($"{key}Name must be set: it names the upstream in logs and results.");
            }
            else if (!upstream.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                failures.Add($"{key}Name may hold only letters, digits, '-', '_' and '.'.");
            }
            else if (!names.TryAdd(upstream.Name, i))
            {
                failures.Add($"{key}Name is already the name of {UpstreamsOptions.Section}:{names[upstream.Name]}; each upstream needs its own.");
            }

            if (!protocols.Knows(upstream.Protocol))
            {
                failures.Add($"{key}Protocol must be one of: {string.Join(", ", protocols.Names)}.");
            }

            if (!Uri.TryCreate(upstream.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                failures.Add($"{key}BaseUrl must be an absolute http:// or https:// URL (the provider's server URL, e.g. https://peer.example/api).");
            }
            else if (baseUrl.UserInfo.Length > 0 || baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0)
            {
                // Request URLs are logged; a secret belongs in ApiKey, which never is.
                failures.Add($"{key}BaseUrl must have no user information, query or fragment: the key goes in {key}ApiKey.");
            }

            if (string.IsNullOrWhiteSpace(upstream.ApiKey))
            {
                failures.Add($"{key}ApiKey must be set.");
            }
            else if (upstream.ApiKey.Any(c => c is < '\u0021' or > '\u007E'))
            {
                failures.Add($"{key}ApiKey must be printable ASCII without spaces (it is sent as a header).");
            }

            for (var j = 0; j < upstream.Fields.Count; j++)
            {
                if (EnrichFieldNames.Parse(upstream.Fields[j]) is null)
                {
                    failures.Add($"{key}Fields:{j} must be {EnrichFieldNames.Emails} or {EnrichFieldNames.Phones}.");
                }
            }

            if (!(upstream.MaxRequestsPerSecond > 0 && double.IsFinite(upstream.MaxRequestsPerSecond)))
            {
                failures.Add($"{key}MaxRequestsPerSecond must be more than 0.");
            }

            Within(failures, $"{key}Timeout", upstream.Timeout, ShortestTimeout, Longest);
            Within(failures, $"{key}AttemptTimeout", upstream.AttemptTimeout, ShortestTimeout, upstream.Timeout > ShortestTimeout ? upstream.Timeout : Longest);
            Within(failures, $"{key}PollInterval", upstream.PollInterval, ShortestTimeout, Longest);
            Within(failures, $"{key}BatchWindow", upstream.BatchWindow, TimeSpan.Zero, Longest);
            Within(failures, $"{key}RetryDelay", upstream.RetryDelay, TimeSpan.Zero, Longest);
            Within(failures, $"{key}MaxRetryDelay", upstream.MaxRetryDelay, upstream.RetryDelay > TimeSpan.Zero ? upstream.RetryDelay : TimeSpan.Zero, Longest);
            Within(failures, $"{key}BreakDuration", upstream.BreakDuration, ShortestBreak, Longest);
            if (upstream.MaxRetries is < 0 or > MostRetries)
            {
                failures.Add($"{key}MaxRetries must be from 0 to {MostRetries}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Within(List<string> failures, string key, TimeSpan value, TimeSpan least, TimeSpan most)
    {
        if (value < least || value > most)
        {
            failures.Add($"{key} must be from {least:c} to {most:c}.");
        }
    }
}
