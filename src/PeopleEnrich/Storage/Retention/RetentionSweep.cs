using Microsoft.Extensions.Options;

namespace PeopleEnrich.Storage.Retention;

/// <summary>
/// Deletes what has expired, every <see cref="RetentionOptions.SweepInterval"/>: each kind of rows in transactions of
/// <see cref="RetentionOptions.RowsPerTransaction"/>, until none is left. Several processes may sweep at once: a row
/// is deleted once, and a sweep that finds nothing costs one query per kind.
/// </summary>
public sealed class RetentionSweep(IEnumerable<IExpiringRows> kinds, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionSweep> logger) : BackgroundService
{
    /// <summary>One pass over every kind; returns how many rows of each were deleted.</summary>
    public async Task<IReadOnlyDictionary<string, int>> SweepAsync(CancellationToken cancellationToken)
    {
        var deleted = new Dictionary<string, int>();
        var limit = options.Value.RowsPerTransaction;
        foreach (var kind in kinds)
        {
            var total = 0;
            int last;
            do
            {
                last = await kind.DeleteExpiredAsync(limit, cancellationToken);
                total += last;
            }
            while (last > 0);

            deleted[kind.What] = total;
            if (total > 0)
            {
                logger.LogInformation("Retention: deleted {Count} expired {What}", total, kind.What);
            }
        }

        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping (a start that failed, too): what the sweep cut short threw (a disposed container, a cancelled command) is the stop.
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A database that is busy or away now is swept at the next interval; nothing is lost by waiting.
                logger.LogWarning(exception, "Retention: the sweep failed; trying again in {Interval}", options.Value.SweepInterval);
            }

            try
            {
                await Task.Delay(options.Value.SweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public static class RetentionSetup
{
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection("Retention"))
            .Validate(RetentionOptions.IsValid, "Retention: Results, SweepInterval and RowsPerTransaction must be positive.")
            .ValidateOnStart();
        services.AddSingleton<RetentionSweep>();
        services.AddHostedService(provider => provider.GetRequiredService<RetentionSweep>());
        return services;
    }

    /// <summary>Rows of <paramref name="table"/> that expire by <paramref name="expired"/> (a condition over <c>@cutoff</c>, now minus the TTL).</summary>
    public static IServiceCollection AddExpiringRows(this IServiceCollection services, string what, string table, string expired, Func<IServiceProvider, TimeSpan> ttl) =>
        services.AddSingleton<IExpiringRows>(provider => new ExpiringTable(
            provider.GetRequiredService<Database>(), provider.GetRequiredService<TimeProvider>(), what, table, expired, () => ttl(provider)));
}
