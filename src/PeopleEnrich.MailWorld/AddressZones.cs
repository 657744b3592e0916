using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// The DNS answers about addresses rather than domains: block-list zones (DNSBLs, e.g. zen.spamhaus.org), where an
/// address's reversed octets under the zone answer A when it is listed and NXDOMAIN when not, and PTR records in
/// in-addr.arpa and ip6.arpa, so that a client can learn offline whether an address is listed and what it is called.
/// </summary>
internal sealed class AddressZones
{
    private readonly List<(string Zone, HashSet<string> Listed, IPAddress Answer)> _blockLists;
    private readonly Dictionary<string, string> _ptr;

    public AddressZones(WorldDescription description)
    {
        _blockLists = (description.BlockLists ?? [])
            .Select(b => (Names.Normalize(b.Zone), b.Listed.Select(a => ReversedLabels(IPAddress.Parse(a)) + "." + Names.Normalize(b.Zone)).ToHashSet(), IPAddress.Parse(b.Answer)))
            .ToList();
        _ptr = (description.Ptr ?? new Dictionary<string, string>())
            .ToDictionary(p => ReverseName(IPAddress.Parse(p.Key)), p => Names.Normalize(p.Value));
    }

    /// <summary>What is wrong with the description's block lists and PTR records, one sentence each.</summary>
    public static IEnumerable<string> Problems(WorldDescription d)
    {
        foreach (var list in d.BlockLists ?? [])
        {
            if (string.IsNullOrWhiteSpace(list.Zone) || Names.Normalize(list.Zone).Length == 0) yield return "a block list has no zone";
            foreach (var address in list.Listed.Where(a => !IPAddress.TryParse(a, out _)))
                yield return $"block list '{list.Zone}': '{address}' is not an IP address";
            if (!IPAddress.TryParse(list.Answer, out var answer) || answer.AddressFamily != AddressFamily.InterNetwork)
                yield return $"block list '{list.Zone}': answer '{list.Answer}' is not an IPv4 address";
        }
        foreach (var (address, name) in d.Ptr ?? new Dictionary<string, string>())
        {
            if (!IPAddress.TryParse(address, out _)) yield return $"ptr: '{address}' is not an IP address";
            if (string.IsNullOrWhiteSpace(name) || Names.Normalize(name).Length == 0) yield return $"ptr: '{address}' has no name";
        }
    }

    /// <summary>Answers the question when its name is in a block-list zone or a reverse zone; false leaves it to the domains.</summary>
    public bool TryAnswer(DnsMessage response, DnsQuestion question, string name, int ttl)
    {
        var type = question.RecordType;
        var asksA = type == RecordType.A || type == RecordType.Any;
        var index = _blockLists.FindIndex(b => name == b.Zone || name.EndsWith("." + b.Zone, StringComparison.Ordinal));
        if (index >= 0)
        {
            var list = _blockLists[index];
            // Listed: A (the list's return code). The zone itself exists but answers nothing asked here. Anything else: NXDOMAIN.
            var listed = list.Listed.Contains(name);
            Answer(response, list.Zone, ttl, exists: listed || name == list.Zone, listed && asksA ? new ARecord(question.Name, ttl, list.Answer) : null);
            return true;
        }
        var reverseZone = name.EndsWith(".in-addr.arpa", StringComparison.Ordinal) || name == "in-addr.arpa" ? "in-addr.arpa"
            : name.EndsWith(".ip6.arpa", StringComparison.Ordinal) || name == "ip6.arpa" ? "ip6.arpa"
            : null;
        if (reverseZone is null) return false;
        var known = _ptr.TryGetValue(name, out var target);
        var asksPtr = type == RecordType.Ptr || type == RecordType.Any;
        Answer(response, reverseZone, ttl, exists: known || name == reverseZone, known && asksPtr ? new PtrRecord(question.Name, ttl, DomainName.Parse(target!)) : null);
        return true;
    }

    /// <summary>The record when there is one; else NODATA for a name that exists, NXDOMAIN for one that does not, each with the zone's SOA.</summary>
    private static void Answer(DnsMessage response, string zone, int ttl, bool exists, DnsRecordBase? record)
    {
        response.ReturnCode = exists ? ReturnCode.NoError : ReturnCode.NxDomain;
        if (record is not null) response.AnswerRecords.Add(record);
        else response.AuthorityRecords.Add(DnsService.Soa(zone, ttl));
    }

    /// <summary>The PTR name of an address: 1.0.0.127.in-addr.arpa, or 32 nibbles under ip6.arpa.</summary>
    private static string ReverseName(IPAddress address) =>
        ReversedLabels(address) + (Plain(address).AddressFamily == AddressFamily.InterNetwork ? ".in-addr.arpa" : ".ip6.arpa");

    /// <summary>The address's octets (IPv4) or nibbles (IPv6), last first, as DNSBLs and reverse zones write them.</summary>
    private static string ReversedLabels(IPAddress address)
    {
        var plain = Plain(address);
        var bytes = plain.GetAddressBytes().Reverse();
        var labels = plain.AddressFamily == AddressFamily.InterNetwork
            ? bytes.Select(b => b.ToString(CultureInfo.InvariantCulture))
            : bytes.SelectMany(b => new[] { b & 0xF, b >> 4 }).Select(n => n.ToString("x", CultureInfo.InvariantCulture));
        return string.Join('.', labels);
    }

    /// <summary>::ffff:1.2.3.4 is 1.2.3.4.</summary>
    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
