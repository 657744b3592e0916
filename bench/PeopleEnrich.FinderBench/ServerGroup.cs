using PeopleEnrich.Testing;

namespace PeopleEnrich.FinderBench;

/// <summary>Server processes with the same settings (one database), started together and stopped together.</summary>
internal sealed class ServerGroup(IReadOnlyList<ServerProcess> servers) : IAsyncDisposable
{
    public ServerProcess First => servers[0];

    public IReadOnlyList<ServerProcess> All => servers;

    /// <summary>Starts <paramref name="count"/> servers one after another (the first migrates the database); on failure none is left running.</summary>
    public static async Task<ServerGroup> StartAsync(ServerOptions options, int count, CancellationToken cancellationToken)
    {
        var started = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                started.Add(await ServerProcess.StartAsync(options, cancellationToken));
            }

            return new ServerGroup(started);
        }
        catch
        {
            await new ServerGroup(started).DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}
