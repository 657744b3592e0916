using PeopleEnrich.Answers;

namespace PeopleEnrich.Tests.Evidence;

/// <summary>The stored shape of an answer: versioned, apart from the wire, and still reading what older versions wrote.</summary>
public sealed class StoredAnswerTests
{
    private static readonly DateTimeOffset Seen = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_stored_shape_is_pinned_so_that_a_rename_cannot_change_it_unnoticed()
    {
        var answer = new EnrichmentOutcome(
            [new FoundEmail("jane.doe@acme.com", "DELIVERABLE") { Evidence = [new SmtpProvenance(Seen, "mx1.acme.com", "250 2.1.5 Ok", false)] }],
            "jane.doe@acme.com",
            [new FoundPhone("+14155550142", "US") { Evidence = [new WebsiteProvenance(Seen, "https://acme.com/team")] }])
        {
            Error = "Could not check: the website of acme.com did not answer",
        };

        Assert.Equal(
            """{"v":3,"emails":[{"email":"jane.doe@acme.com","status":"DELIVERABLE","evidence":[{"source":"smtp","observed_at":"2026-12-01T10:00:00+00:00","mx_host":"mx1.acme.com","reply":"250 2.1.5 Ok","catch_all":false}]}],"most_probable_email":"jane.doe@acme.com","phones":[{"number":"\u002B14155550142","region":"US","evidence":[{"source":"website","observed_at":"2026-12-01T10:00:00+00:00","url":"https://acme.com/team"}]}],"error":"Could not check: the website of acme.com did not answer"}""",
            StoredAnswer.Write(answer));
        var read = StoredAnswer.Read(StoredAnswer.Write(answer));
        Assert.Equal(answer.Emails[0].Evidence, read.Emails[0].Evidence);
        Assert.Equal(answer.Phones[0].Evidence, read.Phones[0].Evidence);
        Assert.Equal(answer.Error, read.Error);
    }

    [Fact]
    public void An_answer_stored_before_evidence_was_kept_still_reads_with_no_evidence()
    {
        var old = """{"emails":[{"email":"jane.doe@acme.com","status":"DELIVERABLE"}],"most_probable_email":"jane.doe@acme.com","phones":[{"number":"+14155550142","region":"US"}]}""";

        var read = StoredAnswer.Read(old);

        Assert.Equal(("jane.doe@acme.com", "DELIVERABLE"), (read.Emails[0].Email, read.Emails[0].Status));
        Assert.Empty(read.Emails[0].Evidence);
        Assert.Equal("jane.doe@acme.com", read.MostProbableEmail);
        Assert.Equal(("+14155550142", "US"), (read.Phones[0].Number, read.Phones[0].Region));
    }

    [Fact]
    public void An_answer_from_a_newer_version_is_refused_with_a_reason_and_is_a_cache_miss()
    {
        var newer = """{"v":4,"emails":[],"phones":[]}""";

        Assert.Contains("version 4", Assert.Throws<InvalidDataException>(() => StoredAnswer.Read(newer)).Message);
        Assert.Null(StoredAnswer.TryRead(newer));
    }
}
