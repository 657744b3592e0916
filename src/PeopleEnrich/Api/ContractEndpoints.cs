using System.Net;
using System.Text;
using PeopleEnrich.Contract;

namespace PeopleEnrich.Api;

/// <summary>The contract as served: the YAML itself, and a reference page rendered from it.</summary>
public static class ContractEndpoints
{
    public static IEndpointRouteBuilder MapContract(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/openapi.yaml", (ContractDocument contract) => TypedResults.Text(contract.Yaml, "application/yaml; charset=utf-8"));
        var page = new Lazy<string>(() => ReferencePage.Render(app.ServiceProvider.GetRequiredService<ContractDocument>()));
        app.MapGet("/docs", () => TypedResults.Text(page.Value, "text/html; charset=utf-8"));
        return app;
    }
}

/// <summary>
/// A self-contained HTML reference of the contract: no script and nothing fetched from elsewhere,
/// so it works on an air-gapped install.
/// </summary>
internal static class ReferencePage
{
    public static string Render(ContractDocument contract)
    {
        var root = contract.Root;
        var info = ContractDocument.Map(root["info"]);
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Encode(info["title"])).Append(" reference</title><style>")
            .Append("body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}")
            .Append("code,pre{font-family:ui-monospace,monospace}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}")
            .Append(".op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}")
            .Append("table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;text-align:left;padding:.25rem .5rem;vertical-align:top}")
            .Append("</style></head><body>")
            .Append("<h1>").Append(Encode(info["title"])).Append(" <small>").Append(Encode(info["version"])).Append("</small></h1>")
            .Append("<p>").Append(Encode(info.GetValueOrDefault("description"))).Append("</p>")
            .Append("<p>Base URL: <code>/api</code>. The machine-readable contract: <a href=\"/api/openapi.yaml\">/api/openapi.yaml</a>.</p>")
            .Append("<h2 id=\"authentication\">Authentication</h2>");
        foreach (var (name, scheme) in ContractDocument.Map(ContractDocument.Map(root["components"])["securitySchemes"]))
        {
            html.Append("<p><code>").Append(Encode(name)).Append("</code>: ").Append(Encode(ContractDocument.Map(scheme).GetValueOrDefault("description"))).Append("</p>");
        }

        html.Append("<p>The server prints an API key on its first start; the examples below read it from <code>$KEY</code>:</p>")
            .Append("<pre>KEY=pe_…   # the key printed at first start, or one made with 'keys create'</pre>")
            .Append("<h2 id=\"operations\">Operations</h2>");
        foreach (var (path, operations) in ContractDocument.Map(root["paths"]))
        {
            foreach (var (method, operationNode) in ContractDocument.Map(operations))
            {
                var operation = ContractDocument.Map(operationNode);
                html.Append("<div class=\"op\" id=\"").Append(Encode(operation.GetValueOrDefault("operationId"))).Append("\"><p><span class=\"m\">")
                    .Append(Encode(method)).Append("</span><code>/api").Append(Encode(path)).Append("</code> — ")
                    .Append(Encode(operation.GetValueOrDefault("summary"))).Append("</p><p>")
                    .Append(Encode(operation.GetValueOrDefault("description"))).Append("</p>");
                if (operation.GetValueOrDefault("parameters") is List<object> parameters)
                {
                    html.Append("<table><tr><th>Parameter</th><th>In</th><th>Description</th></tr>");
                    foreach (var parameter in parameters.Select(ContractDocument.Map).Select(p => Resolved(root, p)))
                    {
                        html.Append("<tr><td><code>").Append(Encode(parameter["name"])).Append("</code></td><td>")
                            .Append(Encode(parameter["in"])).Append("</td><td>").Append(Encode(parameter.GetValueOrDefault("description"))).Append("</td></tr>");
                    }

                    html.Append("</table>");
                }

                foreach (var sample in (operation.GetValueOrDefault("x-codeSamples") as List<object> ?? []).Select(ContractDocument.Map))
                {
                    html.Append("<pre>").Append(Encode(sample["source"])).Append("</pre>");
                }

                html.Append("</div>");
            }
        }

        var components = ContractDocument.Map(root["components"]);
        var error = ContractDocument.Map(ContractDocument.Map(components["responses"])["Error"]);
        html.Append("<h2 id=\"errors\">Errors</h2><p>").Append(Encode(error["description"])).Append("</p>")
            .Append("<h2 id=\"schemas\">Schemas</h2>");
        foreach (var (name, schemaNode) in ContractDocument.Map(components["schemas"]))
        {
            var schema = ContractDocument.Map(schemaNode);
            html.Append("<h3 id=\"").Append(Encode(name)).Append("\">").Append(Encode(name)).Append("</h3><p>")
                .Append(Encode(schema.GetValueOrDefault("description"))).Append("</p>");
            if (schema.GetValueOrDefault("properties") is Dictionary<object, object> properties)
            {
                var required = schema.GetValueOrDefault("required") as List<object> ?? [];
                html.Append("<table><tr><th>Property</th><th>Type</th><th>Description</th></tr>");
                foreach (var (property, propertyNode) in properties)
                {
                    var details = ContractDocument.Map(propertyNode);
                    html.Append("<tr><td><code>").Append(Encode(property)).Append("</code>").Append(required.Contains(property) ? " (required)" : "")
                        .Append("</td><td>").Append(Encode(TypeOf(details))).Append("</td><td>")
                        .Append(Encode(details.GetValueOrDefault("description"))).Append("</td></tr>");
                }

                html.Append("</table>");
            }
        }

        return html.Append("</body></html>").ToString();
    }


    /// <summary>A parameter shared by several operations is a $ref to components/parameters: the docs show what it refers to.</summary>
    private static Dictionary<object, object> Resolved(IReadOnlyDictionary<object, object> root, Dictionary<object, object> parameter) =>
        parameter.GetValueOrDefault("$ref") is string reference
            ? ContractDocument.Map(ContractDocument.Map(ContractDocument.Map(root["components"])["parameters"])[reference.Split('/')[^1]])
            : parameter;
    private static string TypeOf(IReadOnlyDictionary<object, object> schema) =>
        schema.GetValueOrDefault("$ref") is string reference ? reference.Split('/')[^1]
        : schema.GetValueOrDefault("type") switch
        {
            string single => single,
            List<object> several => string.Join(" | ", several),
            _ => "any",
        }
        + (schema.GetValueOrDefault("enum") is List<object> values ? " (" + string.Join(", ", values) + ")" : "");

    private static string Encode(object? value) => WebUtility.HtmlEncode(value?.ToString() ?? "");
}
