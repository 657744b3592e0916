using Dapper;
using Microsoft.Extensions.Options;
using PeopleEnrich.Storage;

namespace PeopleEnrich.Privacy;

/// <summary>
/// A running process's memory of addresses: what a mail server answered for them, the recipients planted at a greylisting
/// domain. Not a store <c>people erase</c> can reach (it runs in a process of its own), so the process forgets the
/// erased addresses itself (<see cref="ErasureFollower"/>).
/// </summary>
public interface IRemembersAddresses
{
    void Forget(IReadOnlyCollection<string> addresses);
}

/// <summary>
/// Follows the erasures made anywhere on the database (every erasure suppresses the person's addresses first, with
/// <see cref="Suppression.Erasure"/> as its reason): every <see cref="ErasureOptions.FollowErasuresEvery"/> it reads the addresses
/// suppressed by an erasure since its last look and has this process's memories forget them. So an erased address
/// leaves a running server's memory within that time, not when the memory would have let it go (up to an hour).
/// </summary>
public sealed class ErasureFollower(Database database, IEnumerable<IRemembersAddresses> memories, IOptions<ErasureOptions> options, TimeProvider time, ILogger<ErasureFollower> logger)
    : BackgroundService
{
    // Erasures are stamped by the clock of the process that ran them: a look reaches back this far before the last, so
    // that one run on a machine whose clock is a little behind is not missed. Forgetting an address twice costs nothing.
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(5);

    private DateTimeOffset? _lookedAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Nothing erased before the process started is in its memory.
        _lookedAt = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.FollowErasuresEvery, time, stoppingToken);
                await FollowAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException)
            {
                // Looked at again at the next turn, from the same moment: nothing is missed by waiting.
                logger.LogWarning(exception, "Could not read the erasures made lately; trying again in {Interval}", options.Value.FollowErasuresEvery);
            }
        }
    }

    /// <summary>One look: the addresses erased since the last (less the clock's slack) are forgotten; returns how many.</summary>
    public async Task<int> FollowAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = (_lookedAt ?? now) - ClockSlack;
        await using var connection = await database.OpenAsync(cancellationToken);
        var erased = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT value FROM suppressions WHERE created_at >= @since AND kind = @kind AND reason = @reason",
            new { since = since.ToUnixTimeMilliseconds(), kind = nameof(SuppressionKind.Email), reason = Suppression.Erasure },
            cancellationToken: cancellationToken))).ToList();
        _lookedAt = now;
        if (erased.Count > 0)
        {
            foreach (var memory in memories)
            {
                memory.Forget(erased);
            }
        }

        return erased.Count;
    }
}

public static class ErasureFollowing
{
    /// <summary>For a process that holds addresses in memory (one that runs workers).</summary>
    public static IServiceCollection AddErasureFollowing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ErasureOptions>().Bind(configuration.GetSection("Privacy"))
            .Validate(o => o.FollowErasuresEvery > TimeSpan.Zero, "Privacy:FollowErasuresEvery must be positive.")
            .ValidateOnStart();
        services.AddSingleton<ErasureFollower>();
        services.AddHostedService(provider => provider.GetRequiredService<ErasureFollower>());
        return services;
    }
}
