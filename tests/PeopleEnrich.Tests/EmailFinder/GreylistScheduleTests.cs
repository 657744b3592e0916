using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Verification;
using PeopleEnrich.Verification.Smtp;

namespace PeopleEnrich.Tests.EmailFinder;

public sealed class GreylistScheduleTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-02T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_domains_people_share_one_schedule_of_1_3_and_6_minutes_from_its_first_deferral()
    {
        var schedules = new GreylistSchedules(Options.Create(new SmtpOptions()), _clock);

        Assert.Equal(TimeSpan.FromMinutes(1), schedules.NextRetry("acme.com"));
        _clock.Advance(TimeSpan.FromSeconds(20)); // a later person of the same domain joins the same round
        Assert.Equal(TimeSpan.FromSeconds(40), schedules.NextRetry("acme.com"));
        _clock.Advance(TimeSpan.FromSeconds(41)); // the round at 1 minute, still deferred
        Assert.Equal(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(61), schedules.NextRetry("acme.com"));
        _clock.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(61));
        Assert.Equal(TimeSpan.FromMinutes(3), schedules.NextRetry("acme.com"));
        _clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(TimeSpan.FromMinutes(3), schedules.NextRetry("acme.com")); // past the schedule: every last gap

        Assert.Equal(TimeSpan.FromMinutes(1), schedules.NextRetry("other.com")); // another domain has its own
    }

    [Fact]
    public void A_domain_nobody_was_deferred_at_for_a_while_starts_its_schedule_afresh()
    {
        var schedules = new GreylistSchedules(Options.Create(new SmtpOptions()), _clock);
        schedules.NextRetry("acme.com");

        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.FromMinutes(1), schedules.NextRetry("acme.com"));
    }

    [Fact]
    public void The_round_a_domains_delay_passed_in_is_still_answering_for_half_a_step_then_not_and_a_new_episode_starts_afresh()
    {
        var schedules = new GreylistSchedules(Options.Create(new SmtpOptions()), _clock);
        schedules.NextRetry("acme.com");
        Assert.True(schedules.RoundStillAnswering("acme.com")); // nobody answered yet

        _clock.Advance(TimeSpan.FromMinutes(6));
        schedules.Answering("acme.com");
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(schedules.RoundStillAnswering("acme.com")); // the rest of the round is being answered
        _clock.Advance(TimeSpan.FromSeconds(40)); // a person told to wait comes back after the first step
        Assert.False(schedules.RoundStillAnswering("acme.com"));

        _clock.Advance(TimeSpan.FromHours(1));
        schedules.NextRetry("acme.com"); // greylisting us again, much later
        Assert.True(schedules.RoundStillAnswering("acme.com"));
    }

    [Fact]
    public void A_candidate_planted_after_the_probe_comes_back_when_it_has_waited_as_long_as_the_others_had_to()
    {
        var schedules = new GreylistSchedules(Options.Create(new SmtpOptions()), _clock);
        var start = _clock.GetUtcNow();
        schedules.Heard("acme.com", Seen("xprobe@acme.com", RcptOutcome.Temporary), [Seen("ann.lee@acme.com", RcptOutcome.Temporary, 1)]);
        schedules.Heard("acme.com", null, [Seen("bob.ray@acme.com", RcptOutcome.Temporary, 20)]); // planted 20 s after the probe
        Assert.Null(schedules.WhenPlantedPasses("acme.com", ["bob.ray@acme.com"])); // the delay is not known yet

        _clock.Advance(TimeSpan.FromMinutes(6)); // the round: the probe and Ann's candidate are answered, Bob's still deferred
        schedules.Heard("acme.com", Seen("xprobe@acme.com", RcptOutcome.Rejected, 360),
            [Seen("ann.lee@acme.com", RcptOutcome.Accepted, 360), Seen("bob.ray@acme.com", RcptOutcome.Temporary, 360)]);

        // The delay is at most 359 s (Ann's); Bob passes 20 s after the probe did, not a whole step later.
        Assert.Equal(TimeSpan.FromSeconds(20 + 359 - 360 + 1), schedules.WhenPlantedPasses("acme.com", ["bob.ray@acme.com"]));
        Assert.Null(schedules.WhenPlantedPasses("acme.com", ["never.planted@acme.com"]));
        Assert.Null(schedules.WhenPlantedPasses("other.com", ["bob.ray@acme.com"]));

        RcptObservation Seen(string address, RcptOutcome outcome, int second = 0) =>
            new(address, outcome, SmtpReply.Parse(outcome == RcptOutcome.Temporary ? "450 4.2.0 Greylisted" : "250 2.1.5 Ok"), "mx.acme.com", start + TimeSpan.FromSeconds(second));
    }

    [Fact]
    public void A_rounds_plantings_count_for_the_domains_delay_once_known_so_a_person_told_to_wait_a_step_still_sees_them()
    {
        var options = Options.Create(new SmtpOptions { GreylistRetryAfter = [TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(18), TimeSpan.FromSeconds(36)] });
        var schedules = new GreylistSchedules(options, _clock);
        var plantings = new DomainPlantings(options, schedules, _clock);
        var start = _clock.GetUtcNow();
        schedules.Heard("acme.com", Seen("xprobe@acme.com", RcptOutcome.Temporary), []);
        _clock.Advance(TimeSpan.FromSeconds(37)); // the probe passes: a delay of at most 37 s
        schedules.Heard("acme.com", Seen("xprobe@acme.com", RcptOutcome.Rejected, 37), []);

        plantings.Of("acme.com").Planted("FLast");
        plantings.Of("other.com").Planted("FLast"); // no delay known there: the schedule's first step
        _clock.Advance(TimeSpan.FromSeconds(8)); // people told to wait for the round (a step) come back and plant theirs

        Assert.Equal(1, plantings.Of("acme.com").Count("FLast"));
        Assert.Equal(0, plantings.Of("other.com").Count("FLast"));
        _clock.Advance(TimeSpan.FromSeconds(30)); // the next round: forgotten
        Assert.Equal(0, plantings.Of("acme.com").Count("FLast"));

        RcptObservation Seen(string address, RcptOutcome outcome, int second = 0) =>
            new(address, outcome, SmtpReply.Parse(outcome == RcptOutcome.Temporary ? "450 4.2.0 Greylisted" : "550 5.1.1 No such user"), "mx.acme.com", start + TimeSpan.FromSeconds(second));
    }

    [Fact]
    public void A_planted_recipient_is_forgotten_once_older_than_the_retries_that_could_ask_it_again()
    {
        var schedules = new GreylistSchedules(Options.Create(new SmtpOptions()), _clock);
        Assert.Equal(TimeSpan.FromHours(1), schedules.KeptFor); // the default schedule's 7 retries reach 18 minutes
        schedules.Heard("acme.com", null, [Deferred("ann.lee@acme.com")]);
        _clock.Advance(TimeSpan.FromMinutes(59));
        schedules.Heard("acme.com", null, [Deferred("bob.ray@acme.com")]);
        Assert.Equal(2, schedules.PlantedAmong(["ann.lee@acme.com", "bob.ray@acme.com"]).Count);

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["bob.ray@acme.com"], schedules.PlantedAmong(["ann.lee@acme.com", "bob.ray@acme.com"]));

        // A schedule of hours keeps them twice as long as its retries can take: 1 h, then six more of its last gap.
        Assert.Equal(TimeSpan.FromHours(14), new GreylistSchedules(Options.Create(new SmtpOptions { GreylistRetryAfter = [TimeSpan.FromHours(1)] }), _clock).KeptFor);

        RcptObservation Deferred(string address) => new(address, RcptOutcome.Temporary, SmtpReply.Parse("450 4.2.0 Greylisted"), "mx.acme.com", _clock.GetUtcNow());
    }

    [Fact]
    public void The_schedule_is_bound_from_configuration_and_an_old_single_value_still_works()
    {
        Assert.Equal(SmtpOptions.DefaultGreylistSchedule, Bound([]).GreylistSchedule);
        Assert.Equal([TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(18)],
            Bound(new() { ["Smtp:GreylistRetryAfter:0"] = "00:00:06", ["Smtp:GreylistRetryAfter:1"] = "00:00:18" }).GreylistSchedule);
        Assert.Equal([TimeSpan.FromMinutes(5)], Bound(new() { ["Smtp:GreylistRetryAfter"] = "00:05:00" }).GreylistSchedule);
    }

    private static SmtpOptions Bound(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddVerification(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<SmtpOptions>>().Value;
    }
}
