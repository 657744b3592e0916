using PeopleEnrich.Pipeline.Waterfall;
using static PeopleEnrich.Pipeline.Waterfall.EmailObservation;

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
}
