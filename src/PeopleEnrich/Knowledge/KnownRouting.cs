using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;
using PeopleEnrich.Verification.Dns;

namespace PeopleEnrich.Knowledge;

/// <summary>
/// Where a domain's mail goes, through DNS first (the truth, cached for its TTL) and kept in the domain
/// knowledge: what every process can see of a domain (its MX hosts, whether it takes mail, and when that
/// was verified), and what the finder goes on, within <see cref="KnowledgeOptions.Ttl"/>, while DNS is not answering.
/// </summary>
public sealed class KnownRouting(MailDns dns, Database database, TimeProvider time, IOptions<KnowledgeOptions> options, ILogger<KnownRouting> logger)
{
    // DNS answers repeat for every person of a domain: the stored one is rewritten when it changes, or hourly.
    private readonly DomainFactColumn _routing = new("routing", database, time);

    public async Task<MailRouting> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        var routing = await dns.ResolveAsync(domain, cancellationToken);
        if (routing is MailRouting.Unresolved unresolved)
        {
            if (await GetAsync(domain, cancellationToken) is { } known)
            {
                logger.LogInformation("DNS did not answer for {Domain} ({Why}); using the routing verified at {At}", domain, unresolved.Why, known.At);
                return known.Routing;
            }

            return routing;
        }

        await RecordAsync(domain, routing, cancellationToken);
        return routing;
    }

    /// <summary>The stored routing of the domain, if verified within the knowledge TTL.</summary>
    public async Task<(MailRouting Routing, DateTimeOffset At)?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string? Routing, long? RoutingAt)>(new CommandDefinition(
            "SELECT routing, routing_at FROM domain_knowledge WHERE domain = @domain AND routing_at >= @fresh",
            new { domain, fresh = (time.GetUtcNow() - options.Value.Ttl).ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return row is { Routing: { } stored, RoutingAt: { } at }
            ? (StoredRouting.FromJson(stored).ToRouting(), DateTimeOffset.FromUnixTimeMilliseconds(at))
            : null;
    }

    private Task RecordAsync(string domain, MailRouting routing, CancellationToken cancellationToken) =>
        _routing.WriteAsync(domain, StoredRouting.Of(routing).ToJson(), evidence: null, cancellationToken);
}

/// <summary>A routing as kept in the database (JSON): hosts with their addresses, or why the domain takes no mail.</summary>
internal sealed record StoredRouting(bool TakesMail, bool Implicit, IReadOnlyList<StoredMailHost> Hosts, string? Why)
{
    public static StoredRouting Of(MailRouting routing) => routing switch
    {
        MailRouting.Hosts hosts => new(true, hosts.Implicit, hosts.Exchangers.Select(h => new StoredMailHost(h.Name, h.Preference, h.Addresses.Select(a => a.ToString()).ToList())).ToList(), null),
        MailRouting.NoMail noMail => new(false, false, [], noMail.Why),
        _ => throw new ArgumentException("Only what DNS answered is kept.", nameof(routing)),
    };

    public MailRouting ToRouting() => TakesMail
        ? new MailRouting.Hosts(Hosts.Select(h => new MailHost(h.Name, h.Preference, h.Addresses.Select(IPAddress.Parse).ToList())).ToList(), Implicit)
        : new MailRouting.NoMail(Why ?? "the domain takes no mail");

    public string ToJson() => JsonSerializer.Serialize(this, KnowledgeJsonContext.Default.StoredRouting);

    public static StoredRouting FromJson(string json) => JsonSerializer.Deserialize(json, KnowledgeJsonContext.Default.StoredRouting)!;
}

internal sealed record StoredMailHost(string Name, int Preference, IReadOnlyList<string> Addresses);

/// <summary>The catch-all probe's answer as kept beside the fact (JSON); its time is the fact's.</summary>
internal sealed record ProbeAnswerRecord(string MxHost, string Reply)
{
    public string ToJson() => JsonSerializer.Serialize(this, KnowledgeJsonContext.Default.ProbeAnswerRecord);

    public static ProbeAnswerRecord? FromJson(string json) => JsonSerializer.Deserialize(json, KnowledgeJsonContext.Default.ProbeAnswerRecord);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoredRouting))]
[JsonSerializable(typeof(ProbeAnswerRecord))]
[JsonSerializable(typeof(LaneTagsRecord))]
internal sealed partial class KnowledgeJsonContext : JsonSerializerContext;
