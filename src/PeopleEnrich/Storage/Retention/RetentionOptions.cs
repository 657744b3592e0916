namespace PeopleEnrich.Storage.Retention;

public sealed class RetentionOptions
{
    /// <summary>How long a request and its answers are kept after its last item completed (FullEnrich keeps 3 months).</summary>
    public TimeSpan Results { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the sweep deletes what has expired.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted per transaction: small, so that the sweep never holds up the workers' writes for long.</summary>
    public int RowsPerTransaction { get; set; } = 500;

    public static bool IsValid(RetentionOptions options) =>
        options.Results > TimeSpan.Zero && options.SweepInterval > TimeSpan.Zero && options.RowsPerTransaction > 0;
}
