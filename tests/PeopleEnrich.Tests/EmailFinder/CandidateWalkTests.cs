using Microsoft.Extensions.Options;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Verification.Smtp;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.EmailFinder;

/// <summary>The finder's walk through one person's candidates, driven the way a domain's lane drives it.</summary>
public sealed class CandidateWalkTests
{
    // Jane Doe's candidates in order of likelihood, each tagged with its shape.
    private static readonly IReadOnlyList<Recipient> Candidates =
    [
        new("jane.doe@acme.com", "FirstDotLast"), new("jdoe@acme.com", "FLast"), new("jane@acme.com", "First"),
        new("janedoe@acme.com", "FirstLast"), new("j.doe@acme.com", "FDotLast"), new("doe.jane@acme.com", "LastDotFirst"),
        new("jane_doe@acme.com", "FirstUnderscoreLast"), new("doej@acme.com", "LastF"),
    ];

    private static readonly LaneView ProbeRejected = new(RcptOutcome.Rejected, null);

    private static readonly WalkRules TwoEstablishTwoAlternatives = new(EstablishedBy: 2, Alternatives: 2, Guesses: 1);

    [Fact]
    public void Once_the_pattern_is_established_a_rejected_person_is_asked_only_the_alternatives()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 3)), TwoEstablishTwoAlternatives);

        var asked = WalkRejectingAll(walk, ProbeRejected);

        Assert.Equal(["jdoe@acme.com", "jane.doe@acme.com"], asked);
    }

    [Fact]
    public void With_no_guesses_allowed_and_no_exception_shapes_the_rejected_pattern_address_is_the_last_asked()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 2)), TwoEstablishTwoAlternatives with { Guesses = 0 });

        Assert.Equal(["jdoe@acme.com"], WalkRejectingAll(walk, ProbeRejected));
    }

    [Fact]
    public void The_domains_exception_shapes_are_asked_before_the_likeliest_others()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 4), ("LastF", 1), ("FirstLast", 1)), TwoEstablishTwoAlternatives);

        var asked = WalkRejectingAll(walk, ProbeRejected);

        Assert.Equal(["jdoe@acme.com", "doej@acme.com", "janedoe@acme.com", "jane.doe@acme.com"], asked);
    }

    [Fact]
    public void A_shape_seen_once_is_not_yet_a_pattern_and_the_walk_goes_on_through_every_candidate()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 1)), TwoEstablishTwoAlternatives);

        var asked = WalkRejectingAll(walk, ProbeRejected);

        Assert.Equal("jdoe@acme.com", asked[0]);
        Assert.Equal(Candidates.Count, asked.Count);
    }

    [Fact]
    public void A_person_rejected_in_the_one_shape_seen_at_the_domain_is_asked_only_the_likeliest_few_more()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 1)), TwoEstablishTwoAlternatives with { GuessesWhenSeenOnce = 3 });

        var asked = WalkRejectingAll(walk, ProbeRejected);

        Assert.Equal(["jdoe@acme.com", "jane.doe@acme.com", "jane@acme.com", "janedoe@acme.com"], asked);
    }

    [Fact]
    public void Back_at_a_greylisting_server_a_person_rejected_in_the_one_shape_seen_plants_half_as_many_guesses()
    {
        var rules = TwoEstablishTwoAlternatives with { GuessesWhenSeenOnce = 3, Greylisted = true };
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FLast", 1)), rules);

        var asked = WalkRejectingAll(walk, ProbeRejected);

        Assert.Equal(["jdoe@acme.com", "jane.doe@acme.com"], asked);
        Assert.Equal(3, (rules with { Greylisted = false }).SeenOnceGuesses);
    }

    [Fact]
    public void A_pattern_the_lane_itself_found_enough_times_bounds_the_walk_in_a_cold_run()
    {
        var lane = new LaneView(RcptOutcome.Rejected, "LastF", new Dictionary<string, int> { ["FDotLast"] = 2, ["LastF"] = 1 });
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives);

        var asked = WalkRejectingAll(walk, lane);

        Assert.Equal(["j.doe@acme.com", "doej@acme.com", "jane.doe@acme.com"], asked);
    }

    [Fact]
    public void The_established_shape_is_asked_first_and_an_acceptance_ends_the_walk()
    {
        var walk = new CandidateWalk(Candidates, probed: true, Known(("FirstLast", 2)), TwoEstablishTwoAlternatives);

        var first = walk.Peek(ProbeRejected)!;
        walk.Asking(first, ProbeRejected);
        Assert.Null(walk.Peek(ProbeRejected)); // the likeliest answer is waited on
        walk.Answered(first, Observed(first, RcptOutcome.Accepted), ProbeRejected);

        Assert.Equal("janedoe@acme.com", first.Address);
        Assert.True(walk.IsDone);
    }

    [Fact]
    public void On_a_greylisting_server_only_the_likeliest_candidate_is_planted()
    {
        var greylisted = new LaneView(RcptOutcome.Temporary, null);
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives);

        var asked = WalkAnswering(walk, greylisted, RcptOutcome.Temporary);

        Assert.Equal(["jane.doe@acme.com"], asked);
    }

    [Fact]
    public void Back_at_a_greylisting_server_nothing_is_asked_while_the_probe_planted_with_it_is_still_deferred()
    {
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives with { Greylisted = true });

        Assert.Null(walk.Peek(new LaneView(RcptOutcome.Temporary, null)));
        Assert.Equal("jane.doe@acme.com", walk.Peek(ProbeRejected)?.Address);
    }

    [Fact]
    public void Back_at_a_greylisting_server_a_candidate_still_deferred_after_the_probe_passed_was_planted_late()
    {
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true };
        var late = new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry);
        var stillGreylisting = new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry);

        WalkAnswering(late, ProbeRejected, RcptOutcome.Temporary);
        Assert.Null(stillGreylisting.Peek(new LaneView(RcptOutcome.Temporary, null)));

        Assert.True(late.PlantedLateStillDeferred);
        Assert.False(stillGreylisting.PlantedLateStillDeferred);
    }

    [Fact]
    public void At_a_cold_domain_a_shape_someone_was_rejected_in_gives_way_to_the_next_likeliest()
    {
        var rejectedOnce = new LaneView(RcptOutcome.Rejected, null) { RejectedByTag = new Dictionary<string, int> { ["FirstDotLast"] = 1 } };
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives);

        var next = walk.Peek(rejectedOnce)!;

        // Its first candidate's shape was rejected for someone else: likelier no mailbox there than the domain's shape.
        Assert.Equal("jdoe@acme.com", next.Address);
        Assert.True(walk.Likelihood(next, rejectedOnce) > walk.Likelihood(Candidates[0], rejectedOnce));
        Assert.Equal(1, walk.Likelihood(Candidates[0], new LaneView(RcptOutcome.Rejected, "FirstDotLast")));
    }

    [Fact]
    public void Back_in_the_round_a_greylisting_delay_passed_a_rejected_person_plants_nothing_more_until_the_round_is_answered()
    {
        var round = TwoEstablishTwoAlternatives with { Greylisted = true, WaitForRound = true };
        var waiting = new CandidateWalk(Candidates, probed: true, KnownShapes.None, round);
        var established = new CandidateWalk(Candidates, probed: true, KnownShapes.None, round with { Guesses = 0 });
        var later = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives with { Greylisted = true });
        var patternFound = new LaneView(RcptOutcome.Rejected, "FirstDotLast", new Dictionary<string, int> { ["FirstDotLast"] = 2 });

        Assert.Equal(["jane.doe@acme.com"], WalkRejectingAll(waiting, ProbeRejected));
        Assert.True(waiting.WaitsForRound);
        Assert.Equal(["jane.doe@acme.com"], WalkRejectingAll(established, patternFound)); // the round already taught it: done
        Assert.False(established.WaitsForRound);
        Assert.True(WalkRejectingAll(later, ProbeRejected).Count > 1); // the round is answered: the walk goes on
        Assert.False(later.WaitsForRound);
    }

    [Fact]
    public void Back_at_a_greylisting_server_after_the_delay_a_person_plants_at_most_the_rounds_few_new_candidates()
    {
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true };
        var one = new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry with { PlantsPerRound = 1 });
        var two = new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry with { PlantsPerRound = 2 });

        // The candidate planted last round is answered (rejected); every new one is deferred, planted for the next round.
        Assert.Equal(["jane.doe@acme.com", "jdoe@acme.com"], WalkAnswering(one, ProbeRejected, RejectedThenDeferred));
        Assert.Equal(["jane.doe@acme.com", "jdoe@acme.com", "jane@acme.com"], WalkAnswering(two, ProbeRejected, RejectedThenDeferred));
        Assert.False(one.IsDone);
    }

    [Fact]
    public void The_last_round_before_the_greylisting_retries_run_out_plants_everything_left()
    {
        var maxRetries = new SmtpOptions().MaxGreylistRetries;
        var last = WalkRules.PlantsInRound(deferrals: maxRetries - 1, maxRetries, perRound: 1);
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = last });

        Assert.Equal(Candidates.Select(c => c.Address), WalkAnswering(walk, ProbeRejected, RejectedThenDeferred));
        Assert.Equal(1, WalkRules.PlantsInRound(deferrals: maxRetries - 2, maxRetries, perRound: 1));
    }

    /// <summary>
    /// The session after the retries ran out asks again what the last round planted. The walk cannot tell a candidate
    /// planted then and still deferred from a new planting: were that deferral counted as this session's planting, the
    /// others planted then, whose delay has passed, would go unasked and the person unchecked ("kept deferring").
    /// </summary>
    [Fact]
    public void After_the_retries_a_candidate_still_deferred_does_not_keep_the_others_planted_from_being_asked()
    {
        var maxRetries = new SmtpOptions().MaxGreylistRetries;
        var final = WalkRules.PlantsInRound(deferrals: maxRetries, maxRetries, perRound: 1);
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = final });

        // Rejected, still deferred, accepted: the third is her address.
        var asked = WalkAnswering(walk, ProbeRejected, n => n switch { 0 => RcptOutcome.Rejected, 1 => RcptOutcome.Temporary, _ => RcptOutcome.Accepted });

        Assert.Equal(["jane.doe@acme.com", "jdoe@acme.com", "jane@acme.com"], asked);
        Assert.True(walk.IsDone);
    }

    [Fact]
    public void At_a_greylisting_domain_of_unknown_shape_the_rounds_people_plant_different_shapes()
    {
        // Two people of the lane were rejected in first.last, planted in the first session: flast is the likeliest shape left.
        var lane = new LaneView(RcptOutcome.Rejected, null) { RejectedByTag = new Dictionary<string, int> { ["FirstDotLast"] = 2 } };
        var round = NewPlantings().Of("acme.com");
        var elsewhere = NewPlantings().Of("acme.com");
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = 1 };

        var jane = WalkAnswering(new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry, Priors(Candidates), round), lane, RcptOutcome.Temporary);
        var john = WalkAnswering(new CandidateWalk(Roe, probed: true, KnownShapes.None, retry, Priors(Roe), round), lane, RcptOutcome.Temporary);
        var alone = WalkAnswering(new CandidateWalk(Roe, probed: true, KnownShapes.None, retry, Priors(Roe), elsewhere), lane, RcptOutcome.Temporary);

        Assert.Equal(["jdoe@acme.com"], jane);
        Assert.Equal(["john@acme.com"], john); // flast is planted this round (Jane's): the next likeliest shape
        Assert.Equal(["jroe@acme.com"], alone);
        Assert.Equal(1, round.Count("FLast"));
        Assert.Equal(1, round.Count("First"));
    }

    [Fact]
    public void Back_at_a_greylisting_server_a_person_asks_their_planted_candidate_again_before_planting_a_likelier_one()
    {
        // Two people of the lane were rejected in first.last: flast is now likelier, but Jane's first.last was planted (its deferral paid for).
        var lane = new LaneView(RcptOutcome.Rejected, null) { RejectedByTag = new Dictionary<string, int> { ["FirstDotLast"] = 2 } };
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = 1 };
        var planted = new HashSet<string> { "jane.doe@acme.com" };

        var again = WalkAnswering(new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry, Priors(Candidates), NewPlantings().Of("acme.com"), planted), lane, RejectedThenDeferred);
        var notPlanted = WalkAnswering(new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry, Priors(Candidates), NewPlantings().Of("acme.com")), lane, RejectedThenDeferred);

        Assert.Equal(["jane.doe@acme.com", "jdoe@acme.com"], again);
        Assert.Equal("jdoe@acme.com", notPlanted[0]);
    }

    [Fact]
    public void Back_at_a_greylisting_server_the_lane_asks_anyones_planted_candidate_before_anyones_new_one()
    {
        // The spread round planted Jane's flast; John's first.last was rejected a moment ago, and his likeliest new candidate
        // is in flast too. Jane's answer costs one RCPT and may show the shape; John's planting costs two, and is wasted if
        // her flast is accepted (his would then be asked in flast anyway).
        var lane = new LaneView(RcptOutcome.Rejected, null) { RejectedByTag = new Dictionary<string, int> { ["FirstDotLast"] = 3 } };
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = 1 };
        var jane = new CandidateWalk(Candidates, probed: true, KnownShapes.None, retry, Priors(Candidates), NewPlantings().Of("acme.com"), new HashSet<string> { "jdoe@acme.com" });
        var john = new CandidateWalk(Roe, probed: true, KnownShapes.None, retry, Priors(Roe), NewPlantings().Of("acme.com"), new HashSet<string> { "john.roe@acme.com" });
        john.Asking(Roe[0], lane);
        john.Answered(Roe[0], new RcptObservation(Roe[0].Address, RcptOutcome.Rejected, new SmtpReply(550, "5.1.1", "no such user"), "mx.acme.com", DateTimeOffset.UtcNow), lane);

        var janes = jane.Peek(lane)!;
        var johns = john.Peek(lane)!;

        Assert.Equal("jdoe@acme.com", janes.Address);
        Assert.Equal("jroe@acme.com", johns.Address);
        Assert.True(jane.Likelihood(janes, lane) > john.Likelihood(johns, lane));
        // Where the shape is found, a planted candidate in it still ranks above a new one in it.
        var found = new LaneView(RcptOutcome.Rejected, "FLast", new Dictionary<string, int> { ["FLast"] = 1 });
        Assert.True(jane.Likelihood(janes, found) > john.Likelihood(johns, found));
    }

    [Fact]
    public void Once_someone_was_accepted_in_a_shape_the_rounds_people_plant_that_shape_whoever_planted_it()
    {
        var found = new LaneView(RcptOutcome.Rejected, "FLast", new Dictionary<string, int> { ["FLast"] = 1 })
        {
            RejectedByTag = new Dictionary<string, int> { ["FirstDotLast"] = 2 },
        };
        var round = NewPlantings().Of("acme.com");
        round.Planted("FLast");
        var retry = TwoEstablishTwoAlternatives with { Greylisted = true, PlantsPerRound = 1 };

        var john = WalkAnswering(new CandidateWalk(Roe, probed: true, KnownShapes.None, retry, Priors(Roe), round), found, RcptOutcome.Temporary);

        Assert.Equal(["jroe@acme.com"], john);
    }

    private static DomainPlantings NewPlantings() =>
        new(Options.Create(new SmtpOptions()), new GreylistSchedules(Options.Create(new SmtpOptions()), TimeProvider.System), TimeProvider.System);

    // John Roe's candidates, in the same shapes as Jane Doe's.
    private static readonly IReadOnlyList<Recipient> Roe = Candidates
        .Select(c => new Recipient(c.Address.Replace("jane", "john", StringComparison.Ordinal).Replace("doe", "roe", StringComparison.Ordinal), c.Tag)).ToList();

    /// <summary>The candidate planted in the last round is answered; every new one is deferred.</summary>
    private static RcptOutcome RejectedThenDeferred(int asked) => asked == 0 ? RcptOutcome.Rejected : RcptOutcome.Temporary;

    private static Dictionary<string, double> Priors(IReadOnlyList<Recipient> recipients) =>
        recipients.ToDictionary(r => r.Address, r => AddressPatterns.Of(Enum.Parse<AddressPattern>(r.Tag!)).Prior);

    /// <summary>
    /// A cold domain: Jane's first candidate (first.last) is asked; before its answer, another person's address in first.last
    /// is accepted (in the lane's other session). Her next candidate is not asked while the one in that shape is in flight,
    /// since it is most likely her address; once it is rejected, her walk goes on.
    /// </summary>
    [Fact]
    public void The_next_candidate_waits_while_the_one_in_the_shape_found_meanwhile_is_in_flight()
    {
        var walk = new CandidateWalk(Candidates, probed: true, KnownShapes.None, TwoEstablishTwoAlternatives);

        var first = walk.Peek(ProbeRejected)!;
        walk.Asking(first, ProbeRejected);
        Assert.Equal("jane.doe@acme.com", first.Address);
        Assert.NotNull(walk.Peek(ProbeRejected)); // nothing found at the domain yet: her next may be asked beside it

        var found = new LaneView(RcptOutcome.Rejected, "FirstDotLast", new Dictionary<string, int> { ["FirstDotLast"] = 1 });
        Assert.Null(walk.Peek(found));

        walk.Answered(first, Observed(first, RcptOutcome.Rejected), found);
        Assert.Equal("jdoe@acme.com", walk.Peek(found)?.Address);
    }

    private static KnownShapes Known(params (string Tag, int Addresses)[] shapes) => new(shapes);

    private static List<string> WalkRejectingAll(CandidateWalk walk, LaneView lane) => WalkAnswering(walk, lane, RcptOutcome.Rejected);

    private static List<string> WalkAnswering(CandidateWalk walk, LaneView lane, RcptOutcome outcome) => WalkAnswering(walk, lane, _ => outcome);

    /// <param name="outcome">The answer to the recipient asked after this many.</param>
    private static List<string> WalkAnswering(CandidateWalk walk, LaneView lane, Func<int, RcptOutcome> outcome)
    {
        var asked = new List<string>();
        while (!walk.IsDone && walk.Peek(lane) is { } next && asked.Count <= Candidates.Count)
        {
            walk.Asking(next, lane);
            walk.Answered(next, Observed(next, outcome(asked.Count)), lane);
            asked.Add(next.Address);
        }

        return asked;
    }

    private static RcptObservation Observed(Recipient recipient, RcptOutcome outcome) =>
        new(recipient.Address, outcome, SmtpReply.Parse(outcome == RcptOutcome.Accepted ? "250 2.1.5 Ok" : outcome == RcptOutcome.Temporary ? "450 4.2.0 Greylisted" : "550 5.1.1 User unknown"),
            "mx.acme.com", DateTimeOffset.UnixEpoch);
}
