namespace PeopleEnrich.Spreadsheets;

/// <summary>An address as answered, with its status.</summary>
public sealed record AnsweredEmail(string Email, string Status);

/// <summary>A number as answered, with its region.</summary>
public sealed record AnsweredPhone(string Number, string? Region);

/// <summary>
/// What became of one row: the item's answer (its status, error, addresses and numbers), or why it was not sent
/// (<see cref="Skipped"/>). Read from the wire by the command line and from the stored batch by the server, so that
/// both write the same columns.
/// </summary>
public sealed record RowAnswer(string Status, string? Error, string? MostProbableEmail, IReadOnlyList<AnsweredEmail> Emails, IReadOnlyList<AnsweredPhone> Phones)
{
    public const string Skipped = "SKIPPED";

    public static RowAnswer NotSent(string reason) => new(Skipped, reason, null, [], []);

    public bool WasSent => Status != Skipped;

    /// <summary>The status of the most probable email, or null when there is none.</summary>
    public string? EmailStatus => MostProbableEmail is { } email
        ? Emails.FirstOrDefault(e => string.Equals(e.Email, email, StringComparison.OrdinalIgnoreCase))?.Status ?? "UNKNOWN"
        : null;
}

/// <summary>The columns the answers add to a row, as the <c>enrich</c> command, the CSV GET and an upload's download write them.</summary>
public static class EnrichedColumns
{
    public static readonly IReadOnlyList<string> Names =
        ["email", "email_status", "emails", "phone", "phone_region", "phones", "enrich_status", "enrich_error"];

    public static string[] Of(RowAnswer answer)
    {
        var phones = answer.Phones;
        return
        [
            answer.MostProbableEmail ?? "",
            answer.EmailStatus ?? "",
            string.Join(';', answer.Emails.Select(e => $"{e.Email}:{e.Status}")),
            phones.Count > 0 ? phones[0].Number : "",
            phones.Count > 0 ? phones[0].Region ?? "" : "",
            string.Join(';', phones.Select(p => p.Number)),
            answer.Status,
            answer.Error ?? "",
        ];
    }
}
