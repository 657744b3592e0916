using System.Globalization;
using System.Text.Json.Nodes;

namespace PeopleEnrich.FinderBench;

/// <summary>
/// What the server answered for one person, against the truth: right when its most probable address is the
/// person's own, DELIVERABLE or HIGH_PROBABILITY; wrong when it is another address with one of those statuses.
/// </summary>
internal sealed record Answer(PlannedPerson Person, string? Best, string? Status, bool PhoneFound)
{
    private static readonly string[] Confident = ["DELIVERABLE", "HIGH_PROBABILITY"];

    public bool Right => Person.Address is not null && Best == Person.Address && Confident.Contains(Status);

    public bool Wrong => Best is not null && Best != Person.Address && Confident.Contains(Status);

    public static Answer Of(PlannedPerson person, JsonNode? result)
    {
        var best = result?["most_probable_email"]?.GetValue<string>();
        var status = result?["emails"]?.AsArray().FirstOrDefault(e => e?["email"]?.GetValue<string>() == best)?["status"]?.GetValue<string>()
            ?? result?["status"]?.GetValue<string>();
        var phoneFound = person.Phone is { } phone && result?["phones"]?.AsArray().Any(p => p?["number"]?.GetValue<string>() == phone) == true;
        return new Answer(person, best, status, phoneFound);
    }

    public override string ToString() =>
        $"{Person.FirstName} {Person.LastName} @{Person.Domain}: expected {Person.Address ?? "nothing (no mailbox)"}, got {Best ?? "nothing"} ({Status})";
}

/// <summary>A batch's (or a kind of domain's) people, what was found, and the RCPT commands it cost.</summary>
/// <param name="Mailboxes">People who have a mailbox: the most that can be found.</param>
internal sealed record Score(int People, int Mailboxes, int Right, int Wrong, int Rcpt)
{
    public double RcptPerAsked => People == 0 ? 0 : (double)Rcpt / People;

    /// <summary>RCPT commands per person found (right): infinite when no one was.</summary>
    public double RcptPerFound => Right == 0 ? double.PositiveInfinity : (double)Rcpt / Right;

    public double FindRate => Mailboxes == 0 ? double.NaN : (double)Right / Mailboxes;

    public double Precision => Right + Wrong == 0 ? double.NaN : (double)Right / (Right + Wrong);

    public static Score Of(IReadOnlyList<Answer> answers, int rcpt) =>
        new(answers.Count, answers.Count(a => a.Person.Address is not null), answers.Count(a => a.Right), answers.Count(a => a.Wrong), rcpt);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Right}/{People} ({Mailboxes} with a mailbox: find rate {Percent(FindRate)}, {Wrong} wrong: precision {Percent(Precision)}; " +
        $"RCPT/asked {RcptPerAsked:F2}, RCPT/found {RcptPerFound:F2})");

    public static string Percent(double ratio) => double.IsNaN(ratio) ? "-" : ratio.ToString("P1", CultureInfo.InvariantCulture);
}
