using System.Reflection;
using YamlDotNet.Serialization;

namespace PeopleEnrich.Contract;

/// <summary>
/// The project's copy of the HTTP contract (Contract/openapi.yaml, embedded in the binary): served
/// as it is at /api/openapi.yaml, and the source of the schemas request bodies are validated against.
/// </summary>
public sealed class ContractDocument
{
    private ContractDocument(string yaml, IReadOnlyDictionary<object, object> root)
    {
        Yaml = yaml;
        Root = root;
    }

    public string Yaml { get; }

    public IReadOnlyDictionary<object, object> Root { get; }

    public static ContractDocument Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("PeopleEnrich.Contract.openapi.yaml")
            ?? throw new InvalidOperationException("The contract is not embedded in this build.");
        using var reader = new StreamReader(stream);
        var yaml = reader.ReadToEnd();
        var root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(yaml);
        return new ContractDocument(yaml, root);
    }

    /// <summary>components.schemas.NAME, as parsed YAML.</summary>
    public IReadOnlyDictionary<object, object> Schema(string name) =>
        (IReadOnlyDictionary<object, object>)Map(Map(Root["components"])["schemas"])[name];

    internal static Dictionary<object, object> Map(object node) => (Dictionary<object, object>)node;
}
