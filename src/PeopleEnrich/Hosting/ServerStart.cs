using Microsoft.AspNetCore.Connections;

namespace PeopleEnrich.Hosting;

/// <summary>
/// Runs the server until it is stopped, and says in one line why it could not start when its address is taken, with
/// exit code 1, instead of a stack trace. The workers claim nothing until the server listens, so such a start has
/// claimed nothing.
/// </summary>
public static class ServerStart
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private static volatile bool _starting;

    /// <summary>
    /// While the host starts, its own "Hosting failed to start" record (with the stack trace) is held back: a taken
    /// address is said in one line below, and any other failure is thrown on, stack trace and all.
    /// </summary>
    public static WebApplicationBuilder QuietStartFailures(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter((_, category, level) => !_starting || category != HostCategory || level >= LogLevel.Critical);
        return builder;
    }

    /// <returns>The exit code: 0 after a stop (SIGTERM, Ctrl-C), 1 when the address is taken.</returns>
    public static async Task<int> RunUntilStoppedAsync(this WebApplication app, TextWriter error)
    {
        await using (app)
        {
            _starting = true;
            try
            {
                await app.StartAsync();
            }
            catch (IOException exception) when (exception.InnerException is AddressInUseException)
            {
                error.WriteLine($"error: {exception.Message} Another process listens there: choose another address with --urls.");
                return 1;
            }
            finally
            {
                _starting = false;
            }

            await app.WaitForShutdownAsync();
            return 0;
        }
    }
}
