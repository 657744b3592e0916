using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace PeopleEnrich.Verification.Dns;

public sealed class DnsOptions
{
    /// <summary>Resolvers as "address:port" (e.g. "127.0.0.1:5353"); empty means the system's own.</summary>
    public List<string> Servers { get; set; } = [];

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many domains' answers are kept.</summary>
    public int CacheSize { get; set; } = 10_000;
}

/// <summary>
/// Where a domain's mail goes: MX in preference order, the domain's own A/AAAA when it has no MX,
/// nothing for NXDOMAIN or a null MX. Answers are cached for their TTL (at least <see cref="MinimumTtl"/>), in a
/// bounded cache; a routing that lacks a host whose address DNS did not give is kept only for <see cref="MinimumTtl"/>.
/// </summary>
public sealed class MailDns : IDisposable
{
    /// <summary>The least time an answer is kept, and the most a routing missing a host's addresses is.</summary>
    public static readonly TimeSpan MinimumTtl = TimeSpan.FromSeconds(30);
    private readonly LookupClient _client;
    private readonly MemoryCache _cache;

    /// <param name="time">The cache's clock (the system's when null).</param>
    public MailDns(IOptions<DnsOptions> options, TimeProvider? time = null)
    {
        var settings = options.Value;
        var servers = settings.Servers.Select(ParseServer).ToArray();
        var lookup = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        lookup.Timeout = settings.Timeout;
        lookup.Retries = 1;
        lookup.UseCache = false; // this class caches whole answers, bounded, below
        lookup.ThrowDnsErrors = false;
        lookup.ContinueOnDnsError = false;
        lookup.UseTcpFallback = true;
        _client = new LookupClient(lookup);
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = settings.CacheSize, Clock = new CacheClock(time ?? TimeProvider.System) });
    }

    public async Task<MailRouting> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(domain, out MailRouting? cached) && cached is not null)
        {
            return cached;
        }

        var (routing, ttl) = await LookupAsync(domain, cancellationToken);
        if (routing is not MailRouting.Unresolved)
        {
            _cache.Set(domain, routing, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = AtLeastMinimum(ttl) });
        }

        return routing;
    }

    /// <summary>
    /// A host's A and AAAA addresses through the configured resolvers (empty when the name has none),
    /// cached for their TTL beside the mail routes. Throws <see cref="DnsResponseException"/> when DNS does not answer.
    /// </summary>
    public async Task<IReadOnlyList<IPAddress>> ResolveHostAsync(string host, CancellationToken cancellationToken)
    {
        var key = new HostAddressesKey(host.TrimEnd('.').ToLowerInvariant());
        if (_cache.TryGetValue(key, out IReadOnlyList<IPAddress>? cached) && cached is not null)
        {
            return cached;
        }

        // Side by side, so that a resolver that does not answer costs one time-out, not two.
        var v4Query = TryQueryAsync(key.Host, QueryType.A, cancellationToken);
        var v6Query = TryQueryAsync(key.Host, QueryType.AAAA, cancellationToken);
        var (v4, v4Failure) = await v4Query;
        var (v6, v6Failure) = await v6Query;
        IReadOnlyList<IPAddress> addresses = [.. v4?.Answers.ARecords().Select(r => r.Address) ?? [], .. v6?.Answers.AaaaRecords().Select(r => r.Address) ?? []];
        // A server that fails only the AAAA question (some do, some never answer it) still gave the answer; with no address, a failure is no answer.
        if (addresses.Count == 0 && (v4Failure ?? v6Failure) is { } failure)
        {
            throw failure;
        }

        var ttl = addresses.Count == 0 ? Ttl(v4!.Authorities) : Ttl([.. v4?.Answers ?? [], .. v6?.Answers ?? []]);
        _cache.Set(key, addresses, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = AtLeastMinimum(ttl) });
        return addresses;
    }

    /// <summary>
    /// The names an address's PTR records give (empty when it has none), through the configured resolvers.
    /// Throws <see cref="DnsResponseException"/> when DNS does not answer. Not cached: only the admin's doctor asks, once a run.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReverseNamesAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var (response, failure) = await TryQueryAsync(address.GetArpaName(), QueryType.PTR, cancellationToken);
        return failure is not null ? throw failure : [.. response!.Answers.PtrRecords().Select(r => r.PtrDomainName.Value.TrimEnd('.'))];
    }

    /// <summary>
    /// One question about a host: the response, or why there is none. DnsClient throws on a time-out even
    /// with ThrowDnsErrors off, and one family's failure must not lose the other's answer.
    /// </summary>
    private async Task<(IDnsQueryResponse? Response, DnsResponseException? Failure)> TryQueryAsync(string host, QueryType type, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.QueryAsync(host, type, cancellationToken: cancellationToken);
            return response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain
                ? (response, new DnsResponseException((DnsResponseCode)response.Header.ResponseCode, $"DNS answered {response.Header.ResponseCode} for {host} {type}"))
                : (response, null);
        }
        catch (DnsResponseException exception)
        {
            return (null, exception);
        }
    }

    // Its own key type, so that a host's addresses never meet a domain's mail routing under one name.
    private sealed record HostAddressesKey(string Host);

    /// <summary>
    /// The domain's routing, or Unresolved when DNS did not answer a question it needed: the MX, or a mail host's address
    /// (a host whose address could not be learned is no host without an address, which would say the domain takes no mail).
    /// </summary>
    private async Task<(MailRouting, TimeSpan)> LookupAsync(string domain, CancellationToken cancellationToken)
    {
        try
        {
            return await LookupOrThrowAsync(domain, cancellationToken);
        }
        catch (DnsResponseException exception)
        {
            return (new MailRouting.Unresolved(exception.Message), TimeSpan.Zero);
        }
    }

    private async Task<(MailRouting, TimeSpan)> LookupOrThrowAsync(string domain, CancellationToken cancellationToken)
    {
        var mx = await _client.QueryAsync(domain, QueryType.MX, cancellationToken: cancellationToken);

        if (mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return (new MailRouting.NoMail("the domain does not exist (NXDOMAIN)"), Ttl(mx.Authorities));
        }

        if (mx.HasError)
        {
            return (new MailRouting.Unresolved($"DNS answered {mx.Header.ResponseCode}"), TimeSpan.Zero);
        }

        var records = mx.Answers.MxRecords().OrderBy(r => r.Preference).ToList();
        if (records.Count == 1 && records[0].Exchange.Value is "." or "" && records[0].Preference == 0)
        {
            return (new MailRouting.NoMail("the domain publishes a null MX (RFC 7505): it takes no mail"), Ttl(mx.Answers));
        }

        if (records.Count > 0 && records.All(r => r.Exchange.Value is "." or ""))
        {
            // A null MX written with another preference than 0 (or twice): it names no mail host, so no mail can go to the domain.
            return (new MailRouting.NoMail("the domain's MX names no mail host, only the root (a null MX, RFC 7505, not written as one): it takes no mail"), Ttl(mx.Answers));
        }

        if (records.Count == 0)
        {
            // RFC 5321 §5.1: no MX, so the domain's own address is the implicit MX.
            var own = await ResolveHostAsync(domain, cancellationToken);
            return own.Count == 0
                ? (new MailRouting.NoMail("the domain has no MX and no address"), Ttl(mx.Authorities))
                : (new MailRouting.Hosts([new MailHost(domain, 0, own)], Implicit: true), Ttl(mx.Answers));
        }

        var hosts = new List<MailHost>();
        DnsResponseException? unanswered = null;
        foreach (var record in records.Where(r => r.Exchange.Value is not ("." or "")))
        {
            var name = record.Exchange.Value.TrimEnd('.');
            var addresses = mx.Additionals.ARecords().Where(a => Same(a.DomainName.Value, name)).Select(a => a.Address)
                .Concat(mx.Additionals.AaaaRecords().Where(a => Same(a.DomainName.Value, name)).Select(a => a.Address))
                .ToList();
            if (addresses.Count == 0)
            {
                try
                {
                    addresses = [.. await ResolveHostAsync(name, cancellationToken)];
                }
                catch (DnsResponseException exception)
                {
                    // One host's zone not answering costs only that host while another can be reached.
                    unanswered ??= exception;
                }
            }

            hosts.Add(new MailHost(name, record.Preference, addresses));
        }

        if (unanswered is not null && hosts.All(h => h.Addresses.Count == 0))
        {
            throw unanswered;
        }

        // A host whose zone did not answer is missing from this routing, not without an address: kept for the MX answer's
        // TTL (an hour, often), it would never be tried in that time. Its addresses are asked again soon instead.
        return (new MailRouting.Hosts(hosts, Implicit: false), unanswered is null ? Ttl(mx.Answers) : MinimumTtl);
    }

    private static TimeSpan AtLeastMinimum(TimeSpan ttl) => ttl < MinimumTtl ? MinimumTtl : ttl;

    private static TimeSpan Ttl(IEnumerable<DnsResourceRecord> records)
    {
        var ttls = records.Select(r => r.TimeToLive).ToList();
        return TimeSpan.FromSeconds(ttls.Count == 0 ? 300 : ttls.Min());
    }

    private static bool Same(string a, string b) => string.Equals(a.TrimEnd('.'), b.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private static IPEndPoint ParseServer(string server) =>
        IPEndPoint.TryParse(server, out var endpoint)
            ? endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint
            : throw new OptionsValidationException(nameof(DnsOptions), typeof(DnsOptions), [$"Dns:Servers holds '{server}', which is not an address[:port]."]);

    public void Dispose() => _cache.Dispose();

    /// <summary>The cache's clock from a <see cref="TimeProvider"/>, so that a test can move it on.</summary>
    private sealed class CacheClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
