using PeopleEnrich.Answers;
using PeopleEnrich.Api;
using PeopleEnrich.Pipeline.Batches;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Evidence;

/// <summary>What callers read of an answer's evidence, whenever the answer was stored.</summary>
public sealed class WireEvidenceTests
{
    [Fact]
    public void An_answer_stored_before_replies_withheld_addresses_shows_its_reply_without_them()
    {
        // Written by a version that quoted replies whole (the result of a batch, a cached answer or a domain's probe
        // kept from before the upgrade): the deployment's outgoing address is in it.
        var stored = StoredAnswer.Read("""
            {"v":3,"emails":[{"email":"jane.doe@acme.com","status":"DELIVERABLE","evidence":[{"source":"smtp","observed_at":"2026-12-01T10:00:00+00:00","mx_host":"mx1.acme.com","reply":"250 2.1.5 Ok, client [198.51.100.7] 2001:db8::7","catch_all":false}]}],"most_probable_email":"jane.doe@acme.com","phones":[]}
            """);
        var batch = new StoredBatch("req_1", [new StoredItem(0, EnrichFields.Emails, ItemStatus.Completed, null, stored, null, new Person("Jane", "Doe", "acme.com", null, null))]);

        var evidence = Assert.Single(Assert.Single(Assert.Single(WireAnswers.Evidence(batch).Results).Emails).Evidence);

        Assert.Equal("250 2.1.5 Ok, client [address withheld] address withheld", evidence.Reply);
        Assert.Equal("mx1.acme.com", evidence.MxHost);
    }
}
