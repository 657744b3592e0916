using System.ComponentModel;
using System.Diagnostics;
using PeopleEnrich.Testing;

namespace PeopleEnrich.Bench;

/// <summary>
/// The server this tool starts itself (--server-dll): on a free loopback port, with a fresh SQLite file
/// in its temporary folder (or the PostgreSQL database given), a key and credits of the bench's own, and
/// nothing that could reach another machine. Stopped (and its folder removed) when the load is done.
/// </summary>
internal sealed record OwnServer(ServerOptions Options, string? Postgres)
{
    private const string Key = "pe_bench_key_0123456789abcdef";
    private const string SqliteFile = "pe.db";

    public async Task<int> RunAsync(Func<LoadTarget, CancellationToken, Task<int>> load, CancellationToken cancellationToken)
    {
        Console.WriteLine("== starting the server");
        ServerProcess server;
        try
        {
            server = await ServerProcess.StartAsync(Options with { Settings = Settings() }, cancellationToken);
        }
        catch (ServerStartException exception)
        {
            Console.Error.WriteLine($"error: {exception.Message}");
            return 1;
        }

        await using (server)
        {
            Console.WriteLine(Postgres is null
                ? $"== database: SQLite {Path.Combine(server.Folder, SqliteFile)} (fresh)"
                : "== database: PostgreSQL (from --postgres)");
            Console.WriteLine($"== server PID {server.Pid} ready at {server.Url.GetLeftPart(UriPartial.Authority)}");

            var exitCode = await load(new LoadTarget(server.Url, Key, server.Pid), cancellationToken);

            if (Postgres is null && !cancellationToken.IsCancellationRequested)
            {
                await PrintItemsByStatusAsync(Path.Combine(server.Folder, SqliteFile), cancellationToken);
            }

            Console.WriteLine("== stopping the server");
            await server.StopAsync();
            if (exitCode != 0)
            {
                Console.Error.WriteLine("== last lines of the server log");
                Console.Error.WriteLine(server.Tail(40));
            }

            return exitCode;
        }
    }

    private Dictionary<string, string?> Settings() => new()
    {
        [Postgres is null ? "ConnectionStrings:Sqlite" : "ConnectionStrings:Postgres"] = Postgres ?? $"Data Source={SqliteFile}",
        ["Bootstrap:ApiKey"] = Key,
        ["Bootstrap:Credits"] = "1000000000",
        // The default limit is 10 requests/s per key, which would cap the benchmark at 1,000 items/s
        // (10 x 100 people) and measure the limiter rather than the server.
        ["RateLimit:PermitsPerSecond"] = "100000",
        // This measures acceptance, so the email finder is off, and DNS goes to a closed loopback port:
        // a benchmark never sends DNS or SMTP traffic off the machine.
        ["Smtp:Enabled"] = "false",
        ["Dns:Servers:0"] = "127.0.0.1:9",
    };

    /// <summary>What the workers made of it meanwhile (items still PROCESSING are the backlog left behind), when sqlite3 is installed.</summary>
    private static async Task PrintItemsByStatusAsync(string database, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("sqlite3")
        {
            ArgumentList = { "-readonly", "-cmd", ".timeout 10000", database, "SELECT status, COUNT(*) FROM items GROUP BY status;" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? sqlite;
        try
        {
            sqlite = Process.Start(start);
        }
        catch (Win32Exception)
        {
            return; // not installed
        }

        if (sqlite is null)
        {
            return;
        }

        using (sqlite)
        {
            Console.WriteLine("== items by status right after the run (SQLite)");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(30));
            var output = sqlite.StandardOutput.ReadToEndAsync(limit.Token);
            var errors = sqlite.StandardError.ReadToEndAsync(limit.Token);
            try
            {
                await sqlite.WaitForExitAsync(limit.Token);
                foreach (var line in ((await output) + (await errors)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Console.WriteLine($"   {line}");
                }
            }
            catch (OperationCanceledException)
            {
                sqlite.Kill();
                Console.WriteLine(cancellationToken.IsCancellationRequested ? "   (interrupted)" : "   (sqlite3 did not answer within 30 s)");
            }
        }
    }
}
