using PeopleEnrich.Answers;

namespace PeopleEnrich.Sources.Upstream;

/// <summary>Upstreams:N: one provider's API (by default one speaking our contract: Tamtam's v2, another PeopleEnrich), asked last.</summary>
public sealed class UpstreamOptions
{
    /// <summary>Names the upstream in logs and as the source (and provider) of its evidence.</summary>
    public string Name { get; set; } = "";

    /// <summary>How to talk to it: the name of a registered <see cref="UpstreamProtocol"/>.</summary>
    public string Protocol { get; set; } = ContractUpstreamAdapter.Protocol;

    /// <summary>The provider's server URL (the one its paths hang from), e.g. https://peer.example/api.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Sent in a header, the adapter's way (Authorization, for the contract); never logged.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The contract's field names this upstream is trusted for; none listed means every field.</summary>
    public List<string> Fields { get; set; } = [];

    /// <summary>Requests per second to this upstream, retries and polls included (also the burst).</summary>
    public double MaxRequestsPerSecond { get; set; } = 5;

    /// <summary>How long one request may take, its retries and their waits included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one attempt of a request may take.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The least time between two polls of a batch. From one second up it is also sent as "Prefer: wait",
    /// so an upstream that holds polls answers as soon as the batch is done.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the first person of a batch waits for others to join it (a batch also leaves once full).</summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Retries of a request after a transient failure (429, 5xx, 408, a refused connection, an attempt's time-out).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The wait before the first retry; it doubles each retry, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before a retry, a Retry-After header's included.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the circuit stays open (no request is sent) once the upstream keeps failing.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What this upstream may be asked for.</summary>
    public EnrichFields TrustedFields => Fields.Count == 0
        ? EnrichFields.Emails | EnrichFields.Phones
        : Fields.Aggregate(EnrichFields.None, (all, name) => all | (EnrichFieldNames.Parse(name) ?? EnrichFields.None));
}

/// <summary>The Upstreams list, in configuration order: the waterfall's order among them.</summary>
public sealed class UpstreamsOptions
{
    public const string Section = "Upstreams";

    public List<UpstreamOptions> Upstreams { get; set; } = [];
}
