using PeopleEnrich.Answers;
using PeopleEnrich.Credits;
using static PeopleEnrich.Answers.EmailObservation;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>The one function that turns observations into the contract's statuses.</summary>
public sealed class VerdictTests
{
    [Theory]
    [InlineData("DELIVERABLE", MailboxAccepted)]
    [InlineData("DELIVERABLE", Listed, MailboxAccepted)]
    [InlineData("INVALID", Listed, MailboxRejected)]
    [InlineData("HIGH_PROBABILITY", AcceptedByCatchAll, FollowsLearnedPattern)]
    [InlineData("HIGH_PROBABILITY", Listed, AcceptedByCatchAll)]
    [InlineData("CATCH_ALL", AcceptedByCatchAll)]
    [InlineData("UNKNOWN", Listed)]
    [InlineData("UNKNOWN", FollowsLearnedPattern)]
    // An upstream's report counts where we have no word of our own.
    [InlineData("DELIVERABLE", UpstreamDeliverable)]
    [InlineData("HIGH_PROBABILITY", UpstreamHighProbability)]
    [InlineData("CATCH_ALL", UpstreamCatchAll)]
    [InlineData("HIGH_PROBABILITY", UpstreamCatchAll, Listed)]
    [InlineData("HIGH_PROBABILITY", UpstreamCatchAll, FollowsLearnedPattern)]
    [InlineData("INVALID", UpstreamInvalid)]
    [InlineData("INVALID", Listed, UpstreamInvalid)]
    [InlineData("INVALID", AcceptedByCatchAll, UpstreamInvalid)] // a catch-all's silence is no verdict on the mailbox
    // What our SMTP conversation saw goes first.
    [InlineData("DELIVERABLE", MailboxAccepted, UpstreamInvalid)]
    [InlineData("INVALID", MailboxRejected, UpstreamDeliverable)]
    [InlineData("DELIVERABLE", MailboxAccepted, UpstreamCatchAll)]
    // On a domain we saw accept anything, an upstream's DELIVERABLE only backs the address.
    [InlineData("HIGH_PROBABILITY", AcceptedByCatchAll, UpstreamDeliverable)]
    [InlineData("HIGH_PROBABILITY", AcceptedByCatchAll, UpstreamHighProbability)]
    [InlineData("CATCH_ALL", AcceptedByCatchAll, UpstreamCatchAll)]
    public void Observations_of_one_address_give_its_status(string status, params EmailObservation[] observations)
    {
        var outcome = Verdict.Decide(observations.Select(o => new EmailEvidence("ada.king@acme.com", "test", o)), []);
        Assert.Equal(status, Assert.Single(outcome.Emails).Status);
    }

    [Fact]
    public void A_rejected_guess_is_left_out_and_a_rejected_listed_address_is_shown_but_never_most_probable()
    {
        var guess = Verdict.Decide([new EmailEvidence("a.king@acme.com", "finder", MailboxRejected)], []);
        Assert.Empty(guess.Emails);

        var listed = Verdict.Decide([new EmailEvidence("ada@acme.com", "directory", Listed), new EmailEvidence("ada@acme.com", "finder", MailboxRejected)], []);
        Assert.Equal("INVALID", Assert.Single(listed.Emails).Status);
        Assert.Null(listed.MostProbableEmail);
    }

    [Fact]
    public void An_address_an_upstream_reports_invalid_is_shown_as_claimed_but_never_most_probable_and_hides_nothing_we_verified()
    {
        var outcome = Verdict.Decide(
        [
            new EmailEvidence("ada@acme.com", "peer", UpstreamInvalid),
            new EmailEvidence("ada.king@acme.com", "email-finder", MailboxAccepted),
            new EmailEvidence("ada.king@acme.com", "peer", UpstreamInvalid),
        ], []);
        Assert.Equal([("ada.king@acme.com", "DELIVERABLE"), ("ada@acme.com", "INVALID")], outcome.Emails.Select(e => (e.Email, e.Status)));
        Assert.Equal("ada.king@acme.com", outcome.MostProbableEmail);

        var alone = Verdict.Decide([new EmailEvidence("ada@acme.com", "peer", UpstreamInvalid)], []);
        Assert.Equal("INVALID", Assert.Single(alone.Emails).Status);
        Assert.Null(alone.MostProbableEmail);
    }

    [Fact]
    public void The_most_probable_email_has_the_lowest_expected_bounce_rate_and_only_found_ones_are_charged()
    {
        var outcome = Verdict.Decide(
        [
            new EmailEvidence("ada@acme.com", "directory", Listed),
            new EmailEvidence("ada.king@acme.com", "finder", MailboxAccepted),
        ], []);
        Assert.Equal(["ada.king@acme.com", "ada@acme.com"], outcome.Emails.Select(e => e.Email));
        Assert.Equal("ada.king@acme.com", outcome.MostProbableEmail);
        Assert.Equal(1, outcome.ChargeFor(EnrichFields.Emails));

        var catchAll = Verdict.Decide([new EmailEvidence("ada.king@acme.com", "finder", AcceptedByCatchAll)], []);
        Assert.Equal(0, catchAll.ChargeFor(EnrichFields.Emails)); // CATCH_ALL is free
    }

    [Fact]
    public void A_role_address_is_never_a_persons_address()
    {
        var outcome = Verdict.Decide([new EmailEvidence("info@acme.com", "directory", Listed), new EmailEvidence("info@acme.com", "finder", MailboxAccepted)], []);
        Assert.Empty(outcome.Emails);
        Assert.Null(outcome.MostProbableEmail);
    }

    [Fact]
    public void On_a_domain_we_saw_accept_anything_an_upstreams_deliverable_for_another_address_is_only_high_probability()
    {
        var outcome = Verdict.Decide(
        [
            new EmailEvidence("john.smith@acme.com", "email-finder", AcceptedByCatchAll),
            new EmailEvidence("jsmith@acme.com", "peer", UpstreamDeliverable),
            new EmailEvidence("john@elsewhere.com", "peer", UpstreamDeliverable),
        ], []);
        Assert.Equal("HIGH_PROBABILITY", outcome.Emails.Single(e => e.Email == "jsmith@acme.com").Status);
        Assert.Equal("DELIVERABLE", outcome.Emails.Single(e => e.Email == "john@elsewhere.com").Status); // no catch-all seen there
    }
}
