using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.Extensions.Configuration;
using PeopleEnrich.Storage;
using PeopleEnrich.Testing;
using PeopleEnrich.Tests.Infrastructure;

namespace PeopleEnrich.Tests.Client;

/// <summary>
/// The server as a child process on a SQLite file, offline (no SMTP, no crawl), whose directory knows
/// <see cref="Known"/> people and <see cref="BulkCount"/> generated ones, so that every answer is
/// known in advance: their directory address (UNKNOWN, so free) and their phone (10 credits).
/// </summary>
public sealed class EnrichServer : IAsyncDisposable
{
    public const int BulkCount = 250;
    public const string BulkDomain = "bulk-example.co.uk";

    public static readonly IReadOnlyList<KnownPerson> Known =
    [
        new("Grace", "Hopper", "navy-example.org", "grace@navy-example.org", "+12025550143", "US"),
        new("Jean", "Dupont", "exemple-societe.fr", "jean.dupont@exemple-societe.fr", "+33612345678", "FR"),
        new("Hans", "Müller", "beispiel-firma.de", "hans.mueller@beispiel-firma.de", "+4915112345678", "DE"),
    ];

    private EnrichServer(TestDatabase database, ServerProcess server)
    {
        Database = database;
        Server = server;
    }

    public TestDatabase Database { get; }

    public ServerProcess Server { get; }

    public Uri Url => Server.Url;

    public static async Task<EnrichServer> StartAsync(int permitsPerSecond = 1000)
    {
        var database = await TestDatabase.CreateAsync("sqlite");
        try
        {
            await ImportAsync(database);
            var server = await ProgramRunner.StartServerAsync(database, new Dictionary<string, string?>
            {
                ["RateLimit:PermitsPerSecond"] = permitsPerSecond.ToString(CultureInfo.InvariantCulture),
            });
            return new EnrichServer(database, server);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The bulk person <paramref name="i"/>: Lead{i} Bulk at <see cref="BulkDomain"/>, with a phone of Ofcom's drama range.</summary>
    public static KnownPerson Bulk(int i) =>
        new($"Lead{i}", "Bulk", BulkDomain, $"lead{i}.bulk@{BulkDomain}", $"+4420794{60000 + i:00000}", "GB");

    /// <summary>A new account with <paramref name="credits"/>, created by the admin command; its id and key.</summary>
    public async Task<(string AccountId, string Key)> CreateAccountAsync(long credits = 100_000)
    {
        var created = (await ProgramRunner.RunAsync(Database, "accounts", "create", "--name", "csv-" + Guid.NewGuid().ToString("N")[..10],
            "--credits", credits.ToString(CultureInfo.InvariantCulture), "--json")).AssertSucceeded();
        var json = JsonNode.Parse(Assert.Single(created.OutputLines))!;
        return (json["account_id"]!.GetValue<string>(), json["api_key"]!.GetValue<string>());
    }

    /// <summary>The account's (used, reserved) credits and its number of batches, read from the database.</summary>
    public async Task<(long Used, long Reserved, long Batches)> StoredAsync(string accountId)
    {
        var database = Storage.Database.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(Database.Settings).Build());
        var row = Assert.Single(await DatabaseDump.RowsAsync(database, """
            SELECT a.used_credits AS used, a.reserved_credits AS reserved, (SELECT COUNT(*) FROM batches b WHERE b.account_id = a.id) AS batches
            FROM accounts a WHERE a.id = @accountId
            """, new { accountId }));
        long Number(string column) => Convert.ToInt64(row[column], CultureInfo.InvariantCulture);
        return (Number("used"), Number("reserved"), Number("batches"));
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }

    private static async Task ImportAsync(TestDatabase database)
    {
        var csv = new StringBuilder("firstname,lastname,domain,email,phone\n");
        foreach (var person in Known.Concat(Enumerable.Range(0, BulkCount).Select(Bulk)))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{person.FirstName},{person.LastName},{person.Domain},{person.Email},{person.Phone}\n");
        }

        var folder = Directory.CreateTempSubdirectory("peopleenrich-contacts-");
        try
        {
            var file = Path.Combine(folder.FullName, "contacts.csv");
            await File.WriteAllTextAsync(file, csv.ToString());
            var imported = (await ProgramRunner.RunAsync(database, "directory", "import", file)).AssertSucceeded();
            Assert.StartsWith($"Rows read: {Known.Count + BulkCount}; imported: {Known.Count + BulkCount};", imported.OutputLines[0]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

public sealed record KnownPerson(string FirstName, string LastName, string Domain, string Email, string Phone, string Region);

/// <summary>One server for a test class; each test makes its own account.</summary>
public sealed class EnrichServerFixture : IAsyncLifetime
{
    private EnrichServer? _server;

    public EnrichServer Server => _server ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync() => _server = await EnrichServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A folder for one test's files, deleted afterwards; the CLI runs in it.</summary>
public sealed class WorkFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("peopleenrich-enrich-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Write(string name, string text, bool byteOrderMark = false) =>
        System.IO.File.WriteAllText(File(name), text, new UTF8Encoding(byteOrderMark));

    /// <summary>A CSV read back: its header and its rows, every field as written.</summary>
    public CsvTable Read(string name, string delimiter)
    {
        using var reader = new StreamReader(File(name));
        using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { Delimiter = delimiter, HasHeaderRecord = false });
        var records = new List<string[]>();
        while (parser.Read())
        {
            records.Add(parser.Record!);
        }

        return new CsvTable(records[0], records.Skip(1).ToList());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed record CsvTable(IReadOnlyList<string> Header, IReadOnlyList<string[]> Rows)
{
    /// <summary>A row's value in the column named <paramref name="column"/> (the last of that name: the added columns come last).</summary>
    public string Value(int row, string column) => Rows[row][Header.ToList().LastIndexOf(column)];
}
