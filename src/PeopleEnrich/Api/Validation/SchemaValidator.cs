using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PeopleEnrich.Contract;

namespace PeopleEnrich.Api.Validation;

/// <summary>
/// Evaluates a JSON value against a schema of the contract and lists every violation with its
/// location (body.requests[3].firstname). It implements exactly the JSON Schema keywords the
/// contract uses and refuses to start on any other, so the contract cannot gain a rule that is
/// silently ignored.
/// </summary>
public sealed partial class SchemaValidator
{
    private static readonly HashSet<string> Supported =
    [
        "type", "required", "properties", "additionalProperties", "items", "minItems", "maxItems",
        "minLength", "maxLength", "enum", "$ref",
        // Annotations: they describe, they do not constrain.
        "description", "examples", "format", "default", "title",
    ];

    private readonly ContractDocument _contract;
    private readonly Dictionary<string, Node> _compiled = new(StringComparer.Ordinal);

    public SchemaValidator(ContractDocument contract)
    {
        _contract = contract;
        // Compiling up front makes an unsupported keyword a start-up failure, not a request failure.
        Compile(EnrichRequestReader.InputSchema);
        Compile(BounceReportReader.InputSchema);
    }

    /// <summary>The errors of <paramref name="value"/> against components.schemas.<paramref name="schemaName"/>.</summary>
    public List<ErrorDetail> Validate(JsonElement value, string schemaName, string location)
    {
        var errors = new List<ErrorDetail>();
        Evaluate(Compile(schemaName), value, location, errors);
        return errors;
    }

    public static string Property(string location, string name) =>
        Identifier().IsMatch(name) ? $"{location}.{name}" : $"{location}[{JsonSerializer.Serialize(name, Json.ApiJsonContext.Default.String)}]";

    public static JsonElement? ScalarValue(JsonElement value) =>
        value.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? null : value.Clone();

    private Node Compile(string schemaName)
    {
        lock (_compiled)
        {
            if (!_compiled.TryGetValue(schemaName, out var node))
            {
                node = new Node();
                _compiled[schemaName] = node; // before filling: schemas may refer to themselves
                Fill(node, _contract.Schema(schemaName), schemaName);
            }

            return node;
        }
    }

    private void Fill(Node node, IReadOnlyDictionary<object, object> schema, string path)
    {
        foreach (var (key, value) in schema)
        {
            var keyword = (string)key;
            if (!Supported.Contains(keyword))
            {
                throw new NotSupportedException($"The contract's schema {path} uses '{keyword}', which the request validator does not implement.");
            }

            switch (keyword)
            {
                case "$ref":
                    var target = ((string)value).Replace("#/components/schemas/", "", StringComparison.Ordinal);
                    var referenced = Compile(target);
                    node.Reference = () => referenced;
                    break;
                case "type":
                    node.Types = value is string single ? [single] : ((List<object>)value).Cast<string>().ToArray();
                    break;
                case "required":
                    node.Required = ((List<object>)value).Cast<string>().ToArray();
                    break;
                case "properties":
                    node.Properties = ContractDocument.Map(value).ToDictionary(
                        p => (string)p.Key, p => Child(p.Value, $"{path}.{p.Key}"), StringComparer.Ordinal);
                    break;
                case "additionalProperties":
                    if (value is string allowed)
                    {
                        node.AdditionalPropertiesAllowed = bool.Parse(allowed);
                    }
                    else
                    {
                        node.AdditionalProperties = Child(value, $"{path}.additionalProperties");
                    }

                    break;
                case "items":
                    node.Items = Child(value, $"{path}.items");
                    break;
                case "minItems":
                    node.MinItems = Number(value);
                    break;
                case "maxItems":
                    node.MaxItems = Number(value);
                    break;
                case "minLength":
                    node.MinLength = Number(value);
                    break;
                case "maxLength":
                    node.MaxLength = Number(value);
                    break;
                case "enum":
                    node.Enum = ((List<object>)value).Cast<string>().ToArray();
                    break;
            }
        }
    }

    private Node Child(object schema, string path)
    {
        var node = new Node();
        Fill(node, ContractDocument.Map(schema), path);
        return node;
    }

    private static int Number(object value) => int.Parse((string)value, CultureInfo.InvariantCulture);

    private static void Evaluate(Node node, JsonElement value, string location, List<ErrorDetail> errors)
    {
        if (node.Reference is not null)
        {
            Evaluate(node.Reference(), value, location, errors);
        }

        if (node.Types is not null && !node.Types.Any(type => Is(value, type)))
        {
            errors.Add(new ErrorDetail(location, $"expected {string.Join(" or ", node.Types)}, got {KindName(value)}", ScalarValue(value)));
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                EvaluateObject(node, value, location, errors);
                break;
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                if (node.MinItems is { } min && count < min)
                {
                    errors.Add(new ErrorDetail(location, $"expected at least {min} item{(min == 1 ? "" : "s")}, got {count}", null));
                }

                if (node.MaxItems is { } max && count > max)
                {
                    errors.Add(new ErrorDetail(location, $"expected at most {max} items, got {count}", null));
                }

                if (node.Items is not null)
                {
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        Evaluate(node.Items, item, $"{location}[{index++}]", errors);
                    }
                }

                break;
            case JsonValueKind.String:
                var text = value.GetString()!;
                var length = text.EnumerateRunes().Count();
                if (node.MinLength is { } minLength && length < minLength)
                {
                    errors.Add(new ErrorDetail(location, minLength == 1 ? "must not be empty" : $"expected at least {minLength} characters", value.Clone()));
                }

                if (node.MaxLength is { } maxLength && length > maxLength)
                {
                    errors.Add(new ErrorDetail(location, $"expected at most {maxLength} characters, got {length}", null));
                }

                if (node.Enum is not null && !node.Enum.Contains(text, StringComparer.Ordinal))
                {
                    errors.Add(new ErrorDetail(location, $"expected one of {string.Join(", ", node.Enum)}", value.Clone()));
                }

                break;
        }
    }

    private static void EvaluateObject(Node node, JsonElement value, string location, List<ErrorDetail> errors)
    {
        foreach (var name in node.Required)
        {
            if (!value.TryGetProperty(name, out _))
            {
                errors.Add(new ErrorDetail(Property(location, name), "required property is missing", null));
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var at = Property(location, property.Name);
            if (!seen.Add(property.Name))
            {
                errors.Add(new ErrorDetail(at, "property appears more than once", null));
                continue;
            }

            if (node.Properties is not null && node.Properties.TryGetValue(property.Name, out var child))
            {
                Evaluate(child, property.Value, at, errors);
            }
            else if (node.AdditionalProperties is not null)
            {
                Evaluate(node.AdditionalProperties, property.Value, at, errors);
            }
            else if (node.AdditionalPropertiesAllowed == false)
            {
                errors.Add(new ErrorDetail(at, node.Properties is null ? "unknown property" : $"unknown property; expected one of {string.Join(", ", node.Properties.Keys)}", null));
            }
        }
    }

    private static bool Is(JsonElement value, string type) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && decimal.Truncate(number) == number,
        _ => throw new NotSupportedException($"JSON Schema type '{type}'"),
    };

    public static string KindName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    private sealed class Node
    {
        public Func<Node>? Reference { get; set; }
        public string[]? Types { get; set; }
        public string[] Required { get; set; } = [];
        public Dictionary<string, Node>? Properties { get; set; }
        public bool? AdditionalPropertiesAllowed { get; set; }
        public Node? AdditionalProperties { get; set; }
        public Node? Items { get; set; }
        public int? MinItems { get; set; }
        public int? MaxItems { get; set; }
        public int? MinLength { get; set; }
        public int? MaxLength { get; set; }
        public string[]? Enum { get; set; }
    }
}
