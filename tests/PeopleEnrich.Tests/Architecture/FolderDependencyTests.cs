using Mono.Cecil;
using Mono.Cecil.Cil;

namespace PeopleEnrich.Tests.Architecture;

/// <summary>
/// The folder layout is the architecture: every top-level folder of src/PeopleEnrich is a namespace
/// (PeopleEnrich.Api, PeopleEnrich.Pipeline, …), and no two of them may depend on each other in both
/// directions. Read from the compiled assembly (signatures, fields, attributes and every instruction's
/// operand), so a fully qualified name in a method body counts as much as a using.
/// </summary>
public sealed class FolderDependencyTests
{
    [Fact]
    public void No_two_top_level_folders_depend_on_each_other()
    {
        var graph = FolderGraph.Of(typeof(Program).Assembly.Location);
        var both = graph.Edges
            .Where(edge => string.CompareOrdinal(edge.From, edge.To) < 0 && graph.Edges.Contains((edge.To, edge.From)))
            .Select(edge => $"{edge.From} <-> {edge.To}: {graph.Why(edge.From, edge.To)} | {graph.Why(edge.To, edge.From)}")
            .ToList();
        Assert.True(both.Count == 0, "Folders that depend on each other both ways:\n" + string.Join("\n", both));
    }

    [Fact]
    public void The_command_line_client_uses_no_room_of_the_server()
    {
        // 'enrich' is a client of the contract only, so that it works against any server of it: it may not
        // reach into what this server does. It shares only the reading and writing of spreadsheets, which
        // the server's CSV endpoints use too, and which use no room at all.
        var graph = FolderGraph.Of(typeof(Program).Assembly.Location);
        var used = graph.Edges.Where(edge => edge.From == "Client" && edge.To != "Spreadsheets").Select(edge => $"{edge.To}: {graph.Why(edge.From, edge.To)}").ToList();
        Assert.True(used.Count == 0, "Client uses:\n" + string.Join("\n", used));
        Assert.DoesNotContain(graph.Edges, edge => edge.To == "Client");
        var spreadsheets = graph.Edges.Where(edge => edge.From == "Spreadsheets").Select(edge => $"{edge.To}: {graph.Why(edge.From, edge.To)}").ToList();
        Assert.True(spreadsheets.Count == 0, "Spreadsheets uses:\n" + string.Join("\n", spreadsheets));
        Assert.Contains(("Client", "Spreadsheets"), graph.Edges);
        Assert.Contains(("Api", "Spreadsheets"), graph.Edges);
    }

    [Fact]
    public void The_graph_sees_known_dependencies()
    {
        // The test above can only fail if the graph is read at all: the API's endpoints use the pipeline.
        var graph = FolderGraph.Of(typeof(Program).Assembly.Location);
        Assert.Contains(("Api", "Pipeline"), graph.Edges);
        Assert.Contains(("Sources", "Verification"), graph.Edges);
        Assert.DoesNotContain(graph.Edges, edge => edge.From == edge.To);
    }

    [Fact]
    public void Telemetry_is_used_by_rooms_and_uses_none()
    {
        // Every room may count and trace; so that none is ever tied back, the instruments' room depends on no other.
        var graph = FolderGraph.Of(typeof(Program).Assembly.Location);
        Assert.DoesNotContain(graph.Edges, edge => edge.From == "Telemetry");
        Assert.Contains(("Pipeline", "Telemetry"), graph.Edges);
        Assert.Contains(("Verification", "Telemetry"), graph.Edges);
    }

    private sealed class FolderGraph
    {
        private readonly Dictionary<(string From, string To), string> _examples = [];

        public HashSet<(string From, string To)> Edges { get; } = [];

        public string Why(string from, string to) => _examples[(from, to)];

        public static FolderGraph Of(string assemblyPath)
        {
            var graph = new FolderGraph();
            using var module = ModuleDefinition.ReadModule(assemblyPath);
            foreach (var type in module.GetTypes())
            {
                if (FolderOf(type) is not { } from)
                {
                    continue;
                }

                foreach (var used in Uses(type))
                {
                    if (FolderOf(used) is { } to && to != from && graph.Edges.Add((from, to)))
                    {
                        graph._examples[(from, to)] = $"{type.FullName} uses {used.FullName}";
                    }
                }
            }

            return graph;
        }

        /// <summary>The top-level folder a type lives in; nested and compiler-made types belong to their outermost declaring type.</summary>
        private static string? FolderOf(TypeReference type)
        {
            while (type is TypeSpecification specification)
            {
                type = specification.ElementType;
            }

            while (type.DeclaringType is not null)
            {
                type = type.DeclaringType;
            }

            var parts = type.Namespace.Split('.');
            return parts.Length >= 2 && parts[0] == "PeopleEnrich" && type.Scope.Name.StartsWith("PeopleEnrich", StringComparison.Ordinal) ? parts[1] : null;
        }

        private static IEnumerable<TypeReference> Uses(TypeDefinition type)
        {
            if (type.BaseType is not null)
            {
                foreach (var t in Expand(type.BaseType)) yield return t;
            }

            foreach (var implemented in type.Interfaces)
            {
                foreach (var t in Expand(implemented.InterfaceType)) yield return t;
            }

            foreach (var attribute in type.CustomAttributes.Concat(type.Methods.SelectMany(m => m.CustomAttributes)))
            {
                yield return attribute.AttributeType;
                foreach (var argument in attribute.ConstructorArguments.Where(a => a.Value is TypeReference))
                {
                    foreach (var t in Expand((TypeReference)argument.Value)) yield return t;
                }
            }

            foreach (var field in type.Fields)
            {
                foreach (var t in Expand(field.FieldType)) yield return t;
            }

            foreach (var property in type.Properties)
            {
                foreach (var t in Expand(property.PropertyType)) yield return t;
            }

            foreach (var method in type.Methods)
            {
                foreach (var t in Expand(method.ReturnType)) yield return t;
                foreach (var parameter in method.Parameters)
                {
                    foreach (var t in Expand(parameter.ParameterType)) yield return t;
                }

                if (!method.HasBody)
                {
                    continue;
                }

                foreach (var variable in method.Body.Variables)
                {
                    foreach (var t in Expand(variable.VariableType)) yield return t;
                }

                foreach (var instruction in method.Body.Instructions)
                {
                    foreach (var t in Operand(instruction)) yield return t;
                }
            }
        }

        private static IEnumerable<TypeReference> Operand(Instruction instruction) => instruction.Operand switch
        {
            TypeReference type => Expand(type),
            MethodReference method => Expand(method.DeclaringType).Concat(Expand(method.ReturnType))
                .Concat(method.Parameters.SelectMany(p => Expand(p.ParameterType)))
                .Concat(method is GenericInstanceMethod generic ? generic.GenericArguments.SelectMany(Expand) : []),
            FieldReference field => Expand(field.DeclaringType).Concat(Expand(field.FieldType)),
            _ => [],
        };

        /// <summary>A type and every type it is made of (generic arguments, element types).</summary>
        private static IEnumerable<TypeReference> Expand(TypeReference type)
        {
            yield return type;
            switch (type)
            {
                case GenericInstanceType generic:
                    foreach (var argument in generic.GenericArguments.SelectMany(Expand)) yield return argument;
                    foreach (var element in Expand(generic.ElementType)) yield return element;
                    break;
                case TypeSpecification specification:
                    foreach (var element in Expand(specification.ElementType)) yield return element;
                    break;
            }
        }
    }
}
