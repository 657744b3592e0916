using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Spreadsheets;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Api;

/// <summary>
/// The one place where stored answers become wire shapes: the GET's results, and the evidence of
/// exactly what the GET shows. An item shows the fields it asked for, and only once COMPLETED; its error
/// is why it FAILED, or for a COMPLETED item what could not be checked.
/// </summary>
public static class WireAnswers
{
    public static GetEnrichPeopleStatusOutputBody Status(StoredBatch batch) =>
        new(batch.Id, batch.Status, batch.Items.Count, batch.Items.Select(Result).ToList());

    public static GetEnrichPeopleEvidenceOutputBody Evidence(StoredBatch batch) =>
        new(batch.Id, batch.Items.Select(item =>
        {
            var (emails, phones) = Shown(item);
            return new ItemEvidence(
                emails.Select(e => new EmailEvidenceOutput(e.Email, e.Status, e.Evidence.Select(Sighting).ToList())).ToList(),
                phones.Select(p => new PhoneEvidenceOutput(p.Number, p.Region, p.Evidence.Select(Sighting).ToList())).ToList());
        }).ToList());

    /// <summary>A result as the CSV columns read it (<see cref="EnrichedColumns"/>), whichever CSV it goes to.</summary>
    public static RowAnswer Row(EnrichPeopleResult result) => new(
        result.Status,
        result.Error,
        result.MostProbableEmail,
        (result.Emails ?? []).Select(e => new AnsweredEmail(e.Email, e.Status)).ToList(),
        (result.Phones ?? []).Select(p => new AnsweredPhone(p.Number, p.Region)).ToList());

    private static EnrichPeopleResult Result(StoredItem item)
    {
        var type = EnrichFieldNames.Canonical(item.Fields);
        if (item.Answer is not { } answer)
        {
            return new EnrichPeopleResult(type, item.Status, item.Custom, null, null, null, item.Error);
        }

        var (emails, phones) = Shown(item);
        var emailsAsked = item.Fields.HasFlag(EnrichFields.Emails);
        return new EnrichPeopleResult(
            type,
            item.Status,
            item.Custom,
            emailsAsked ? emails.Select(e => new EnrichedEmail(e.Email, e.Status)).ToList() : null,
            emailsAsked ? answer.MostProbableEmail : null,
            item.Fields.HasFlag(EnrichFields.Phones) ? phones.Select(p => new EnrichedPhone(p.Number, p.Region)).ToList() : null,
            answer.Error);
    }

    /// <summary>What an item shows: its answer's emails and phones, for the fields it asked.</summary>
    private static (IReadOnlyList<FoundEmail> Emails, IReadOnlyList<FoundPhone> Phones) Shown(StoredItem item) =>
        item.Answer is not { } answer
            ? ([], [])
            : (item.Fields.HasFlag(EnrichFields.Emails) ? answer.Emails : [], item.Fields.HasFlag(EnrichFields.Phones) ? answer.Phones : []);

    private static EvidenceOutput Sighting(Provenance provenance)
    {
        var seen = new EvidenceOutput(provenance.Source, provenance.ObservedAt.UtcDateTime);
        return provenance switch
        {
            // Withheld here too, not only when quoted: answers stored (results, the cache, domains' probes) before replies
            // withheld addresses are still read.
            SmtpProvenance smtp => seen with { MxHost = smtp.MxHost, Reply = SmtpReply.WithholdAddresses(smtp.Reply), CatchAll = smtp.CatchAll },
            WebsiteProvenance website => seen with { Url = website.Url },
            DirectoryProvenance directory => seen with { File = directory.File, Line = directory.Line },
            UpstreamProvenance upstream => seen with { Provider = upstream.Provider, Status = upstream.Status },
            PatternProvenance pattern => seen with { Pattern = pattern.Pattern, Supporting = pattern.Supporting },
            BounceProvenance bounce => seen with { Reply = bounce.Reply },
            _ => seen,
        };
    }
}
