namespace PeopleEnrich.Cluster;

/// <summary>How the processes sharing one database keep their common limits.</summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// How long a claim (a session slot at a mail host, a domain's lane) outlives a process that died holding it. A
    /// living process renews its claims every third of this, so only a dead one's run out.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a process waiting for a claim another process holds looks again (a release in this process wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}
