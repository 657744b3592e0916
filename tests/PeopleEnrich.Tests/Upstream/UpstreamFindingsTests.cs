using PeopleEnrich.Answers;
using PeopleEnrich.Pipeline.Waterfall;
using PeopleEnrich.Sources.Upstream;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>What an upstream is asked, and what its answer becomes once our verdict has weighed it.</summary>
public sealed class UpstreamFindingsTests
{
    private static readonly Person Ada = new("Ada", "King", "engines.com", "Analytical Engines", "https://www.linkedin.com/in/ada-king");
    private static readonly UpstreamOptions Peer = new() { Name = "peer", ApiKey = "pe_upstream_secret_0123456789" };
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(EnrichFields.Emails, new[] { "contact.emails" })]
    [InlineData(EnrichFields.Phones, new[] { "contact.phones" })]
    [InlineData(EnrichFields.Emails | EnrichFields.Phones, new[] { "contact.emails", "contact.phones" })]
    public void The_request_carries_the_person_and_only_the_fields_asked(EnrichFields asked, string[] names)
    {
        var request = ContractUpstreamAdapter.Request(new UpstreamAsk(Ada, asked));
        Assert.Equal(("Ada", "King", "engines.com", "Analytical Engines", "https://www.linkedin.com/in/ada-king"),
            (request.Firstname, request.Lastname, request.Domain, request.CompanyName, request.LinkedinUrl));
        Assert.Equal(names, request.EnrichFields);
    }

    [Theory]
    [InlineData("DELIVERABLE", "DELIVERABLE")]
    [InlineData("HIGH_PROBABILITY", "HIGH_PROBABILITY")]
    [InlineData("CATCH_ALL", "CATCH_ALL")]
    [InlineData("INVALID", "INVALID")]
    [InlineData("UNKNOWN", "UNKNOWN")]
    [InlineData("SOMETHING_NEW", "UNKNOWN")]
    [InlineData(null, "UNKNOWN")]
    public void An_upstreams_status_is_carried_to_our_verdict(string? reported, string decided)
    {
        var findings = Map(new ContractItemResult(null, "COMPLETED", [new ContractEmail("Ada.King@Engines.com", reported)], null, null, null), EnrichFields.Emails);

        var evidence = Assert.Single(findings.Emails);
        Assert.Equal(("ada.king@engines.com", "peer"), (evidence.Address, evidence.Source));
        Assert.Equal(new UpstreamProvenance(ReceivedAt, "peer", reported), evidence.Provenance); // its own word, whatever we make of it
        var found = Assert.Single(Verdict.Decide(findings.Emails, []).Emails);
        Assert.Equal(decided, found.Status);
        Assert.Equal([evidence.Provenance!], found.Evidence);
    }

    [Fact]
    public void A_status_that_repeats_our_key_is_kept_without_it()
    {
        var findings = Map(new ContractItemResult(null, "COMPLETED", [new ContractEmail("ada@engines.com", $"DELIVERABLE for {Peer.ApiKey}\r\nX")], null, null, null), EnrichFields.Emails);

        var provenance = Assert.IsType<UpstreamProvenance>(Assert.Single(findings.Emails).Provenance);
        Assert.Equal("DELIVERABLE for [api key]  X", provenance.Status);
        Assert.Equal(EmailObservation.Listed, Assert.Single(findings.Emails).Observation);
    }

    [Fact]
    public void An_item_that_did_not_complete_is_declined_with_its_error() =>
        Assert.Equal(
            new UpstreamAnswer.Declined("FAILED", "no credits left"),
            ContractUpstreamAdapter.Read(new ContractItemResult(null, "FAILED", [new ContractEmail("ada@engines.com", "DELIVERABLE")], null, null, "no credits left")));

    [Fact]
    public void Phones_are_parsed_again_and_only_valid_numbers_with_their_region_are_kept()
    {
        var findings = Map(new ContractItemResult(null, "COMPLETED", null, null,
        [
            new ContractPhone("+33612345678", "FR"),
            new ContractPhone("+1 202-555-0143", null), // not E.164 as written: normalised
            new ContractPhone("020 7946 0018", "GB"), // national, read in its region
            new ContractPhone("+44 20 7946 0018", "US"), // the number's own region wins
            new ContractPhone("12345", "FR"), // not a valid number
            new ContractPhone("06 12 34 56 78", null), // no country code and no region
            new ContractPhone("not a phone", "FR"),
            new ContractPhone(null, "FR"),
            null,
        ], null), EnrichFields.Phones);

        Assert.Equal(
            [("+33612345678", "FR"), ("+12025550143", "US"), ("+442079460018", "GB"), ("+442079460018", "GB")],
            findings.Phones.Select(p => (p.E164, p.Region)));
        Assert.All(findings.Phones, p => Assert.Equal("peer", p.Source));
        Assert.All(findings.Phones, p => Assert.Equal(new UpstreamProvenance(ReceivedAt, "peer", null), p.Provenance)); // a number has no status
    }

    [Fact]
    public void Only_bare_addresses_at_a_host_name_are_kept()
    {
        var findings = Map(new ContractItemResult(null, "COMPLETED",
        [
            new ContractEmail(" ada.king@engines.com ", "DELIVERABLE"),
            new ContractEmail("Ada King <ada@engines.com>", "DELIVERABLE"),
            new ContractEmail("\"ada king\"@engines.com", "DELIVERABLE"),
            new ContractEmail("ada@", "DELIVERABLE"),
            new ContractEmail("ada@127.0.0.1", "DELIVERABLE"),
            new ContractEmail("ada@localhost", "DELIVERABLE"),
            new ContractEmail("ada king@engines.com", "DELIVERABLE"),
            new ContractEmail(null, "DELIVERABLE"),
            null,
        ], null, null, null), EnrichFields.Emails);

        Assert.Equal(["ada.king@engines.com"], findings.Emails.Select(e => e.Address));
    }

    [Fact]
    public void Fields_that_were_not_asked_are_ignored_whatever_the_upstream_sends()
    {
        var result = new ContractItemResult(null, "COMPLETED", [new ContractEmail("ada@engines.com", "DELIVERABLE")], null, [new ContractPhone("+33612345678", "FR")], null);

        Assert.Empty(Map(result, EnrichFields.Phones).Emails);
        Assert.Single(Map(result, EnrichFields.Phones).Phones);
        Assert.Empty(Map(result, EnrichFields.Emails).Phones);
        Assert.Single(Map(result, EnrichFields.Emails).Emails);
    }

    [Fact]
    public void A_trusted_field_list_is_what_the_source_provides_and_none_listed_means_every_field()
    {
        Assert.Equal(EnrichFields.Phones, new UpstreamOptions { Fields = ["contact.phones"] }.TrustedFields);
        Assert.Equal(EnrichFields.Emails | EnrichFields.Phones, new UpstreamOptions { Fields = ["contact.phones", "contact.emails"] }.TrustedFields);
        Assert.Equal(EnrichFields.Emails | EnrichFields.Phones, new UpstreamOptions().TrustedFields);
    }

    private static SourceFindings Map(ContractItemResult result, EnrichFields asked) =>
        UpstreamFindings.From(Assert.IsType<UpstreamAnswer.Reported>(ContractUpstreamAdapter.Read(result)), asked, Peer, ReceivedAt);
}
