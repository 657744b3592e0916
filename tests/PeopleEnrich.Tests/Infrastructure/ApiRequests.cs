using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeopleEnrich.Sources.Directory;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Tests.Infrastructure;

/// <summary>Requests as a hostile or careless client sends them: any bytes, any content type, chunked or not.</summary>
public static class ApiRequests
{
    public const string EnrichPath = "/api/v2/people/enrich";
    public const string CreditsPath = "/api/v2/credits";

    /// <summary>
    /// POSTs <paramref name="body"/> as it is to the enrich endpoint. <paramref name="contentType"/> null sends
    /// no Content-Type; <paramref name="chunked"/> sends the body chunked, without a Content-Length.
    /// </summary>
    public static Task<HttpResponseMessage> PostRawAsync(
        this HttpClient client, byte[] body, string? contentType = "application/json", bool chunked = false, string? idempotencyKey = null)
    {
        HttpContent content = chunked ? new UnknownLengthContent(body) : new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, EnrichPath) { Content = content };
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this TestAccount account, string json, string? idempotencyKey = null) =>
        account.Http.PostRawAsync(Encoding.UTF8.GetBytes(json), idempotencyKey: idempotencyKey);

    public static Task<HttpResponseMessage> PostJsonAsync(this TestAccount account, JsonNode body, string? idempotencyKey = null) =>
        account.PostJsonAsync(body.ToJsonString(), idempotencyKey);

    /// <summary>Asserts a 202 and returns its body (request_id, status, item_count).</summary>
    public static async Task<JsonObject> AssertAcceptedAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        return Assert.IsType<JsonObject>(JsonNode.Parse(text));
    }

    /// <summary>A body whose length the client does not know, so HTTP/1.1 can only send it chunked.</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

/// <summary>Request bodies built as JSON, so a test can break any part of them.</summary>
public static class Bodies
{
    public static string Unique() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>A person no directory knows: names and domain unique to this call.</summary>
    public static JsonObject Person(params string[] fields)
    {
        var unique = Unique();
        return Named($"Ada{unique}", $"Lovelace{unique}", $"d{unique}.com", fields);
    }

    /// <summary>A person by name and domain, such as one the test put in the directory.</summary>
    public static JsonObject Named(string first, string last, string domain, params string[] fields) => new()
    {
        ["firstname"] = first,
        ["lastname"] = last,
        ["domain"] = domain,
        ["enrich_fields"] = new JsonArray((fields.Length == 0 ? ["contact.emails"] : fields).Select(f => (JsonNode)f!).ToArray()),
    };

    public static JsonObject Batch(params JsonNode[] people) => new() { ["requests"] = new JsonArray(people) };

    public static JsonObject Batch(IEnumerable<JsonNode> people) => Batch(people.ToArray());

    /// <summary>A valid batch of <paramref name="count"/> unknown people.</summary>
    public static JsonObject Batch(int count, params string[] fields) => Batch(Enumerable.Range(0, count).Select(_ => Person(fields)));
}

/// <summary>What the database holds for one account: the ledger and how many batches, items and ledger entries.</summary>
public sealed record StoredState(long Total, long Used, long Reserved, long Batches, long Items, long LedgerEntries);

/// <summary>A contact of the directory, the only enrichment source.</summary>
public sealed record DirectoryRow(string FirstName, string LastName, string Domain, string? Email, string? Phone);

public static class StoredData
{
    public static async Task<StoredState> StoredStateAsync(this TestApp app, string accountId)
    {
        var row = Assert.Single(await DatabaseDump.RowsAsync(app.Service<Database>(), """
            SELECT a.total_credits AS total, a.used_credits AS used, a.reserved_credits AS reserved,
                   (SELECT COUNT(*) FROM batches b WHERE b.account_id = a.id) AS batches,
                   (SELECT COUNT(*) FROM items i WHERE i.account_id = a.id) AS items,
                   (SELECT COUNT(*) FROM credit_entries c WHERE c.account_id = a.id) AS entries
            FROM accounts a WHERE a.id = @accountId
            """, new { accountId }));
        long Number(string column) => Convert.ToInt64(row[column], System.Globalization.CultureInfo.InvariantCulture);
        return new StoredState(Number("total"), Number("used"), Number("reserved"), Number("batches"), Number("items"), Number("entries"));
    }

    public static Task<StoredState> StoredStateAsync(this TestApp app, TestAccount account) => app.StoredStateAsync(account.AccountId);

    /// <summary>Asserts the account's ledger, batches and items are exactly as they were.</summary>
    public static async Task AssertNothingStoredAsync(this TestApp app, TestAccount account, StoredState before)
    {
        Assert.Equal(before, await app.StoredStateAsync(account));
        Assert.Equal((before.Used, before.Total, before.Total - before.Used - before.Reserved), await account.CreditsAsync());
    }

    /// <summary>The domains stored for a batch's items, in the submitted order.</summary>
    public static async Task<IReadOnlyList<string>> StoredDomainsAsync(this TestApp app, string batchId) =>
        (await DatabaseDump.RowsAsync(app.Service<Database>(), "SELECT domain FROM items WHERE batch_id = @batchId ORDER BY idx", new { batchId }))
            .Select(row => (string)row["domain"]!).ToList();

    /// <summary>Imports contacts into the directory (shared by every account of the app), failing on any note.</summary>
    public static async Task ImportDirectoryAsync(this TestApp app, params DirectoryRow[] rows)
    {
        var csv = new StringBuilder("firstname,lastname,domain,email,phone\n");
        foreach (var row in rows)
        {
            csv.Append(row.FirstName).Append(',').Append(row.LastName).Append(',').Append(row.Domain).Append(',')
                .Append(row.Email).Append(',').Append(row.Phone).Append('\n');
        }

        var report = await app.Service<DirectoryImporter>().ImportAsync(new StringReader(csv.ToString()), CancellationToken.None);
        Assert.Empty(report.Skipped);
        Assert.Empty(report.Warnings);
        Assert.Equal(rows.Length, report.Imported);
    }
}
