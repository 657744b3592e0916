namespace PeopleEnrich.Sources.Upstream;

/// <summary>A protocol that <see cref="UpstreamOptions.Protocol"/> may name, and how to make its adapter for one upstream.</summary>
public sealed record UpstreamProtocol(string Name, Func<UpstreamChannel, IUpstreamAdapter> Create);

/// <summary>
/// The protocols this server speaks, by name (compared without regard to case), from every
/// <see cref="UpstreamProtocol"/> registered with <see cref="UpstreamSetup.AddUpstreamProtocol"/>.
/// </summary>
public sealed class UpstreamProtocols
{
    private readonly Dictionary<string, UpstreamProtocol> _byName = new(StringComparer.OrdinalIgnoreCase);

    public UpstreamProtocols(IEnumerable<UpstreamProtocol> protocols)
    {
        foreach (var protocol in protocols)
        {
            if (!_byName.TryAdd(protocol.Name, protocol))
            {
                throw new InvalidOperationException($"Two upstream protocols are named '{protocol.Name}': each name may be registered once.");
            }
        }
    }

    /// <summary>The names, in a stable order, for messages.</summary>
    public IReadOnlyList<string> Names => _byName.Keys.Order(StringComparer.Ordinal).ToList();

    public bool Knows(string? name) => name is not null && _byName.ContainsKey(name);

    /// <summary>The adapter of the protocol <paramref name="name"/> for the upstream of <paramref name="channel"/>.</summary>
    public IUpstreamAdapter Create(string name, UpstreamChannel channel) => _byName.TryGetValue(name, out var protocol)
        ? protocol.Create(channel)
        : throw new InvalidOperationException($"No upstream protocol is named '{name}'; the settings' validation should have said so at start.");
}
