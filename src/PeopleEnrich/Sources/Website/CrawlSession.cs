using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using PeopleEnrich.Telemetry;
using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Sources.Website;

/// <summary>What asking for one page came to.</summary>
public abstract record FetchOutcome
{
    /// <summary>A text/html or text/plain page, read up to the byte limit.</summary>
    public sealed record Page(Uri Url, string Text, bool IsHtml, bool Truncated) : FetchOutcome;

    /// <summary>The server answered, but with no page to read (a client error status, another content type).</summary>
    public sealed record NoPage(string Why) : FetchOutcome;

    /// <summary>We did not ask: robots.txt forbids it, it is off the site, or the page budget is spent.</summary>
    public sealed record NotAsked(string Why) : FetchOutcome;

    /// <summary>
    /// No answer: no address, a refused or non-public address, a TLS failure, a time-out, a server error.
    /// <paramref name="Lasting"/> when DNS said so (the name has no address, or none we may connect to):
    /// asking again soon would say the same, unlike a server that is down now.
    /// </summary>
    public sealed record Unreachable(string Why, bool Lasting = false) : FetchOutcome;
}

/// <summary>DNS did not answer for the site: a crawl now would say nothing true, so it is not kept.</summary>
public sealed class SiteUnresolvedException(string domain, Exception inner) : Exception($"DNS did not answer for {domain}'s site: {inner.Message}", inner);

/// <summary>
/// One crawl's requests: robots.txt fetched once per origin and obeyed, redirects followed by hand and
/// only inside the site, at most <see cref="CrawlerOptions.MaxPages"/> page requests, bodies read up to
/// <see cref="CrawlerOptions.MaxBytes"/> and never further.
/// </summary>
public sealed partial class CrawlSession(HttpClient http, CrawlerOptions options, SiteScope scope, ILogger logger)
{
    private const int MaxRedirects = 5;

    // RFC 9309 §2.5: crawlers must read at least 500 KiB of a robots.txt.
    private const int MaxRobotsBytes = 500 * 1024;

    private readonly Dictionary<string, OriginRules> _robots = new(StringComparer.Ordinal);
    private readonly HashSet<string> _requested = new(StringComparer.Ordinal);

    /// <summary>Page requests made so far (redirect hops included, robots.txt not).</summary>
    public int PageRequests { get; private set; }

    public bool HasBudget => PageRequests < options.MaxPages;

    public async Task<FetchOutcome> FetchPageAsync(Uri url, CancellationToken cancellationToken)
    {
        var current = scope.WithPort(url);
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            if (!scope.Contains(current))
            {
                logger.LogInformation("Not following {Url}: outside the site of {Domain}", current, scope.Domain);
                return new FetchOutcome.NotAsked("outside the site");
            }

            var (robots, unreachable) = await RobotsAsync(current, cancellationToken);
            if (robots is null)
            {
                return unreachable!;
            }

            if (!robots.Allows(current))
            {
                logger.LogInformation("Not fetching {Url}: robots.txt disallows it for {Agent}", current, options.ProductToken);
                return new FetchOutcome.NotAsked("disallowed by robots.txt");
            }

            if (!HasBudget)
            {
                return new FetchOutcome.NotAsked("the page budget is spent");
            }

            if (!_requested.Add(current.AbsoluteUri))
            {
                return new FetchOutcome.NotAsked("already fetched");
            }

            PageRequests++;
            var response = await SendAsync(current, options.MaxBytes, IsReadable, cancellationToken);
            Instruments.PageFetched(response switch
            {
                Response.Failed => "unreachable",
                Response.Answered { Location: not null } => "redirect",
                Response.Answered { Body: not null } => "page",
                Response.Answered { Status: >= 500 } => "server_error",
                _ => "no_page",
            });
            switch (response)
            {
                case Response.Failed failed:
                    return new FetchOutcome.Unreachable(failed.Why, failed.Lasting);
                case Response.Answered { Location: { } location }:
                    current = scope.WithPort(location);
                    continue;
                case Response.Answered { Body: { } body } answered:
                    var html = answered.MediaType is not "text/plain";
                    return new FetchOutcome.Page(current, Decode(body, answered.Charset), html, body.Length >= options.MaxBytes);
                case Response.Answered { Status: >= 500 } answered:
                    return new FetchOutcome.Unreachable($"HTTP {answered.Status}");
                case Response.Answered answered:
                    return new FetchOutcome.NoPage($"HTTP {answered.Status} {answered.MediaType}");
            }
        }

        return new FetchOutcome.NoPage("too many redirects");
    }

    /// <summary>The rules for the URL's origin, fetched once; or, when the origin gives none (no answer, a server error), why.</summary>
    private async Task<OriginRules> RobotsAsync(Uri url, CancellationToken cancellationToken)
    {
        var origin = Origin(url);
        if (_robots.TryGetValue(origin, out var known))
        {
            return known;
        }

        var current = new Uri(url, "/robots.txt");
        for (var hop = 0; ; hop++)
        {
            var response = await SendAsync(current, MaxRobotsBytes, _ => true, cancellationToken);
            if (response is Response.Answered { Location: { } next } && hop < MaxRedirects && scope.Contains(scope.WithPort(next)))
            {
                current = scope.WithPort(next);
                continue;
            }

            var robots = response switch
            {
                Response.Failed failed => new OriginRules(null, new FetchOutcome.Unreachable($"{origin} does not answer: {failed.Why}", failed.Lasting)),
                Response.Answered { Status: >= 200 and < 300, Body: { } body } answered => new OriginRules(RobotsTxt.Parse(Decode(body, answered.Charset), options.ProductToken), null),
                // RFC 9309 §2.3.1.3-4: unreachable (5xx) allows nothing, for now; unavailable (4xx, a redirect not followed) allows all.
                Response.Answered { Status: >= 500 } answered => new OriginRules(null, new FetchOutcome.Unreachable($"{origin} answers HTTP {answered.Status} for robots.txt")),
                _ => new OriginRules(RobotsTxt.AllowAll, null),
            };
            _robots[origin] = robots;
            return robots;
        }
    }

    /// <summary>One GET: the status, a redirect's target, and the body when <paramref name="wanted"/> takes its media type, read up to <paramref name="maxBytes"/>.</summary>
    private async Task<Response> SendAsync(Uri url, int maxBytes, Func<string?, bool> wanted, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("User-Agent", options.UserAgent);
        request.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1");
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType?.ToLowerInvariant();
            var charset = response.Content.Headers.ContentType?.CharSet;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                return new Response.Answered(status, mediaType, charset, new Uri(url, location), null);
            }

            if (status is < 200 or >= 300 || !wanted(mediaType))
            {
                return new Response.Answered(status, mediaType, charset, null, null);
            }

            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            return new Response.Answered(status, mediaType, charset, null, await ReadAtMostAsync(stream, maxBytes, timeout.Token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Response.Failed($"no answer within {options.Timeout.TotalSeconds:0.#} s", Lasting: false);
        }
        catch (HttpRequestException exception)
        {
            if (Find<HostUnresolvedException>(exception) is { } unresolved)
            {
                throw new SiteUnresolvedException(scope.Domain, unresolved);
            }

            var blocked = Find<BlockedAddressException>(exception);
            var why = blocked?.Message ?? exception.InnerException?.Message ?? exception.Message;
            logger.LogInformation("No answer from {Url}: {Why}", url, why);
            // GuardedHttp's "no address": DNS answered, with nothing to connect to.
            var lasting = blocked is not null || Find<SocketException>(exception) is { SocketErrorCode: SocketError.HostNotFound };
            return new Response.Failed(why, lasting);
        }
    }

    /// <summary>Reads the first <paramref name="maxBytes"/> of a body and stops: the rest is never read, let alone buffered.</summary>
    private static async Task<byte[]> ReadAtMostAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (body.Length < maxBytes)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, maxBytes - body.Length)), cancellationToken);
            if (read == 0)
            {
                break;
            }

            body.Write(buffer, 0, read);
        }

        return body.ToArray();
    }

    private static bool IsReadable(string? mediaType) => mediaType is null or "text/html" or "application/xhtml+xml" or "text/plain";

    /// <summary>The charset of the Content-Type, else of a &lt;meta&gt; near the start, else UTF-8.</summary>
    private static string Decode(byte[] body, string? charset)
    {
        charset ??= MetaCharset().Match(Encoding.ASCII.GetString(body, 0, Math.Min(body.Length, 1024))) is { Success: true } meta ? meta.Groups[1].Value : null;
        Encoding encoding;
        try
        {
            encoding = charset is null ? Encoding.UTF8 : Encoding.GetEncoding(charset.Trim('"', '\''));
        }
        catch (ArgumentException)
        {
            // windows-1252 and its kin are not built in; Latin-1 reads them but for a few punctuation marks.
            encoding = Encoding.Latin1;
        }

        return encoding.GetString(body);
    }

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }

    [GeneratedRegex(@"<meta[^>]+charset\s*=\s*[""']?([A-Za-z0-9_.:-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex MetaCharset();

    private abstract record Response
    {
        public sealed record Answered(int Status, string? MediaType, string? Charset, Uri? Location, byte[]? Body) : Response;

        public sealed record Failed(string Why, bool Lasting) : Response;
    }

    /// <summary>An origin's robots.txt rules, or, when it gave none, what fetching a page there comes to.</summary>
    private sealed record OriginRules(RobotsTxt? Rules, FetchOutcome.Unreachable? Unreachable);
}
