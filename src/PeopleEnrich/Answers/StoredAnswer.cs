using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeopleEnrich.Answers;

/// <summary>
/// The stored shape of an item's answer (an item's <c>result_json</c> and the results cache), kept
/// apart from the wire so that renaming a field of the API never changes what is stored. Versioned:
/// version 1, written before evidence was kept, has no <c>v</c> and no evidence; version 2 has no
/// <c>error</c> (what could not be checked); both still read.
/// </summary>
public static class StoredAnswer
{
    // 3: the error. A version 2 program would read a row of 3 as an answer with no gap, a silent "nothing found":
    // it refuses it instead, as it refuses any newer row.
    public const int Version = 3;

    public static string Write(EnrichmentOutcome outcome) => JsonSerializer.Serialize(
        new AnswerRecord(
            Version,
            outcome.Emails.Select(e => new EmailRecord(e.Email, e.Status, e.Evidence.Select(ProvenanceRecord.Of).ToList())).ToList(),
            outcome.MostProbableEmail,
            outcome.Phones.Select(p => new PhoneRecord(p.Number, p.Region, p.Evidence.Select(ProvenanceRecord.Of).ToList())).ToList(),
            outcome.Error),
        StoredAnswerJsonContext.Default.AnswerRecord);

    /// <summary>The answer, or null when it was written by a newer version of the program.</summary>
    public static EnrichmentOutcome? TryRead(string json) =>
        JsonSerializer.Deserialize(json, StoredAnswerJsonContext.Default.AnswerRecord) is { V: null or <= Version } ? Read(json) : null;

    public static EnrichmentOutcome Read(string json)
    {
        var record = JsonSerializer.Deserialize(json, StoredAnswerJsonContext.Default.AnswerRecord)
            ?? throw new InvalidDataException("A stored answer is null.");
        if (record.V is > Version)
        {
            throw new InvalidDataException($"A stored answer has version {record.V}; this program reads up to {Version}: run a newer version.");
        }

        return new EnrichmentOutcome(
            (record.Emails ?? []).Select(e => new FoundEmail(e.Email, e.Status) { Evidence = Provenances(e.Evidence) }).ToList(),
            record.MostProbableEmail,
            (record.Phones ?? []).Select(p => new FoundPhone(p.Number, p.Region) { Evidence = Provenances(p.Evidence) }).ToList())
        {
            Error = record.Error,
        };
    }

    private static IReadOnlyList<Provenance> Provenances(IReadOnlyList<ProvenanceRecord>? records) =>
        (records ?? []).Select(r => r.ToProvenance()).OfType<Provenance>().ToList();
}

internal sealed record AnswerRecord(int? V, IReadOnlyList<EmailRecord>? Emails, string? MostProbableEmail, IReadOnlyList<PhoneRecord>? Phones, string? Error = null);

internal sealed record EmailRecord(string Email, string Status, IReadOnlyList<ProvenanceRecord>? Evidence);

internal sealed record PhoneRecord(string Number, string Region, IReadOnlyList<ProvenanceRecord>? Evidence);

/// <summary>One sighting, flat: <see cref="Source"/> says which of the other fields it uses.</summary>
internal sealed record ProvenanceRecord(
    string Source,
    DateTimeOffset ObservedAt,
    string? MxHost = null,
    string? Reply = null,
    bool? CatchAll = null,
    string? Url = null,
    string? File = null,
    int? Line = null,
    string? Provider = null,
    string? Status = null,
    string? Pattern = null,
    IReadOnlyList<string>? Supporting = null)
{
    public static ProvenanceRecord Of(Provenance provenance) => provenance switch
    {
        SmtpProvenance smtp => new(smtp.Source, smtp.ObservedAt, MxHost: smtp.MxHost, Reply: smtp.Reply, CatchAll: smtp.CatchAll),
        WebsiteProvenance website => new(website.Source, website.ObservedAt, Url: website.Url),
        DirectoryProvenance directory => new(directory.Source, directory.ObservedAt, File: directory.File, Line: directory.Line),
        UpstreamProvenance upstream => new(upstream.Source, upstream.ObservedAt, Provider: upstream.Provider, Status: upstream.Status),
        PatternProvenance pattern => new(pattern.Source, pattern.ObservedAt, Pattern: pattern.Pattern, Supporting: pattern.Supporting),
        BounceProvenance bounce => new(bounce.Source, bounce.ObservedAt, Reply: bounce.Reply),
        _ => throw new ArgumentOutOfRangeException(nameof(provenance), provenance, "Unknown kind of provenance."),
    };

    /// <summary>Null for a kind this version does not know (written by a newer one): the answer still reads.</summary>
    public Provenance? ToProvenance() => Source switch
    {
        "smtp" => new SmtpProvenance(ObservedAt, MxHost ?? "", Reply ?? "", CatchAll ?? false),
        "website" => new WebsiteProvenance(ObservedAt, Url ?? ""),
        "directory" => new DirectoryProvenance(ObservedAt, File ?? "", Line ?? 0),
        "upstream" => new UpstreamProvenance(ObservedAt, Provider ?? "", Status),
        "pattern" => new PatternProvenance(ObservedAt, Pattern ?? "", Supporting ?? []),
        "bounce" => new BounceProvenance(ObservedAt, Reply),
        _ => null,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AnswerRecord))]
internal sealed partial class StoredAnswerJsonContext : JsonSerializerContext;
