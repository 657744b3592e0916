namespace PeopleEnrich.Admin.Doctor;

public enum CheckStatus
{
    Ok,
    Warn,
    Fail,
}

/// <summary>One row of the doctor's table: what was checked, how it went, what was seen, and what to do about it (empty when nothing).</summary>
public sealed record CheckResult(string Check, CheckStatus Status, string Seen, string Advice)
{
    public static CheckResult Ok(string check, string seen) => new(check, CheckStatus.Ok, seen, "");

    public static CheckResult Warn(string check, string seen, string advice) => new(check, CheckStatus.Warn, seen, advice);

    public static CheckResult Fail(string check, string seen, string advice) => new(check, CheckStatus.Fail, seen, advice);

    /// <summary>A check that needs what an earlier one could not learn: a warning, so that the earlier row's FAIL stands out as the cause.</summary>
    public static CheckResult NotChecked(string check, string why) => Warn(check, $"not checked: {why}", "Fix the rows above first.");
}
