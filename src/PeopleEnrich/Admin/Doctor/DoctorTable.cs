using Spectre.Console;

namespace PeopleEnrich.Admin.Doctor;

/// <summary>The doctor's report: one row per check, and a last line counting them.</summary>
public static class DoctorTable
{
    public static Table Render(IReadOnlyList<CheckResult> results)
    {
        var table = new Table().AddColumns("check", "status", "seen", "advice");
        foreach (var result in results)
        {
            // Mail servers and DNS wrote much of "seen" ("[192.0.2.1]" included): escaped, it is shown as it came.
            table.AddRow(Markup.Escape(result.Check), Status(result.Status), Markup.Escape(result.Seen), Markup.Escape(result.Advice));
        }

        return table;
    }

    public static string Summary(IReadOnlyList<CheckResult> results)
    {
        int Count(CheckStatus status) => results.Count(r => r.Status == status);
        var verdict = Count(CheckStatus.Fail) > 0 ? "this machine should not verify until every FAIL is fixed" : "this machine can verify";
        return $"{Count(CheckStatus.Ok)} OK, {Count(CheckStatus.Warn)} WARN, {Count(CheckStatus.Fail)} FAIL: {verdict}.";
    }

    private static string Status(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "[green]OK[/]",
        CheckStatus.Warn => "[yellow]WARN[/]",
        _ => "[red]FAIL[/]",
    };
}
