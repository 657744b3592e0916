using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace PeopleEnrich.WebConsole;

/// <summary>
/// The web console at <c>/</c>: one page, its style and its script, embedded in the binary so that it needs nothing
/// from the internet. It is a client of the HTTP API on the same origin; the key lives in the browser's session
/// storage and travels only in the Authorization header.
/// </summary>
public static class WebConsoleSetup
{
    private static readonly FrozenDictionary<string, Asset> Assets = new Dictionary<string, Asset>
    {
        ["/"] = Asset.Load("index.html", "text/html; charset=utf-8"),
        ["/console.css"] = Asset.Load("console.css", "text/css; charset=utf-8"),
        ["/console.js"] = Asset.Load("console.js", "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Only this origin's script, style and API; no inline script, no frames: a page that holds a key must not run anyone else's code.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    public static IEndpointRouteBuilder MapWebConsole(this IEndpointRouteBuilder app)
    {
        foreach (var (path, asset) in Assets)
        {
            app.MapGet(path, (HttpContext http) => asset.Serve(http)).ExcludeFromDescription();
        }

        return app;
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag)
    {
        public static Asset Load(string name, string contentType)
        {
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"PeopleEnrich.WebConsole.Page.{name}")
                ?? throw new InvalidOperationException($"The console's {name} is not embedded.");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            return new Asset(content, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }

        public IResult Serve(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            // Revalidated on every load, so that an upgraded server never runs with yesterday's script.
            headers.CacheControl = "no-cache";
            headers.ETag = ETag;
            return http.Request.Headers.IfNoneMatch == ETag ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Bytes(Content, ContentType);
        }
    }
}
