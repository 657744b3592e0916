using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Storage;
using PeopleEnrich.Storage.Retention;
using PeopleEnrich.Verification.Network;

namespace PeopleEnrich.Webhooks;

public static class WebhooksSetup
{
    /// <summary>The webhooks' settings and tables, and the outbox written when a batch completes: every role, and the admin commands.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection("Webhooks"))
            .Validate(WebhookOptions.IsValid, "Webhooks: Timeout, FirstRetryAfter, GiveUpAfter, PollInterval and KeepDeliveries must be positive, MaxRetryAfter at least FirstRetryAfter, Concurrency at least 1, MaxResponseBytes 0 or more.")
            .ValidateOnStart();
        services.TryAddSingleton<WebhookStore>();
        services.TryAddSingleton<WebhookOutbox>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBatchCompletion, WebhookOutbox>(provider => provider.GetRequiredService<WebhookOutbox>()));
        return services;
    }

    /// <summary>The delivery workers (the worker role), on the guarded connections the sources' setup registered (AddSources).</summary>
    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services)
    {
        services.TryAddSingleton<GuardedHttp>();
        services.AddSingleton<CompletionEvent>();
        services.AddDatabaseWakeups();
        services.AddHostedService<WebhookDelivery>();
        services.AddExpiringRows("webhook deliveries", "webhook_events", "created_at < @cutoff AND state <> 'PENDING'",
            provider => provider.GetRequiredService<IOptions<WebhookOptions>>().Value.KeepDeliveries);
        return services;
    }
}
