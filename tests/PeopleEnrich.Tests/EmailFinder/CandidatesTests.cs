using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.EmailFinder;

public sealed class CandidatesTests
{
    private static readonly NameParts JaneDoe = PersonNames.Parse("Jane Q.", "Doe");

    [Fact]
    public void Priors_are_shares_listed_most_common_first()
    {
        Assert.Equal(15, AddressPatterns.All.Count);
        Assert.Equal(AddressPattern.FirstDotLast, AddressPatterns.All[0].Pattern);
        Assert.Equal(AddressPatterns.All.OrderByDescending(p => p.Prior).Select(p => p.Pattern), AddressPatterns.All.Select(p => p.Pattern));
        Assert.InRange(AddressPatterns.All.Sum(p => p.Prior), 0.9, 1.0);
        Assert.Equal(Enum.GetValues<AddressPattern>().Length, AddressPatterns.All.Select(p => p.Pattern).Distinct().Count());
    }

    [Theory]
    [InlineData(AddressPattern.FirstDotLast, "jane.doe")]
    [InlineData(AddressPattern.FLast, "jdoe")]
    [InlineData(AddressPattern.First, "jane")]
    [InlineData(AddressPattern.FirstLast, "janedoe")]
    [InlineData(AddressPattern.FDotLast, "j.doe")]
    [InlineData(AddressPattern.FirstL, "janed")]
    [InlineData(AddressPattern.FirstUnderscoreLast, "jane_doe")]
    [InlineData(AddressPattern.LastDotFirst, "doe.jane")]
    [InlineData(AddressPattern.FirstDotL, "jane.d")]
    [InlineData(AddressPattern.LastF, "doej")]
    [InlineData(AddressPattern.FirstDotMDotLast, "jane.q.doe")]
    [InlineData(AddressPattern.LastFirst, "doejane")]
    [InlineData(AddressPattern.FirstHyphenLast, "jane-doe")]
    [InlineData(AddressPattern.Last, "doe")]
    [InlineData(AddressPattern.FL, "jd")]
    public void Each_pattern_builds_its_local_part_and_is_detected_from_it(AddressPattern pattern, string localPart)
    {
        Assert.Equal(localPart, AddressPatterns.Of(pattern).Build("jane", "doe", "q"));
        Assert.Equal([pattern], AddressPatterns.Detect(localPart, JaneDoe));
    }

    [Fact]
    public void Candidates_come_ranked_by_prior()
    {
        var candidates = Candidates.For(PersonNames.Parse("Jane", "Doe"), maxCount: 100);

        Assert.Equal(["jane.doe", "jdoe", "jane", "janedoe", "j.doe"], candidates.Take(5).Select(c => c.LocalPart));
        Assert.Equal(candidates.OrderByDescending(c => c.Prior).Select(c => c.LocalPart), candidates.Select(c => c.LocalPart));
        Assert.Equal(0.38, candidates[0].Prior);
        Assert.Equal(AddressPattern.FirstDotLast, candidates[0].Pattern);
    }

    [Fact]
    public void The_middle_initial_pattern_is_offered_only_with_a_middle_initial()
    {
        Assert.DoesNotContain(Candidates.For(PersonNames.Parse("Jane", "Doe"), maxCount: 100), c => c.Pattern == AddressPattern.FirstDotMDotLast);
        Assert.Contains(Candidates.For(JaneDoe, maxCount: 100), c => c.LocalPart == "jane.q.doe");
    }

    [Fact]
    public void A_learned_pattern_comes_first()
    {
        var candidates = Candidates.For(PersonNames.Parse("Jane", "Doe"), new KnownPattern(AddressPattern.LastDotFirst));

        Assert.Equal("doe.jane", candidates[0].LocalPart);
        Assert.Equal(AddressPattern.LastDotFirst, candidates[0].Pattern);
        Assert.Equal("jane.doe", candidates[1].LocalPart);
    }

    [Fact]
    public void Every_spelling_of_a_learned_pattern_comes_before_other_patterns()
    {
        var candidates = Candidates.For(PersonNames.Parse("Jürgen", "Müller"), new KnownPattern(AddressPattern.FLast));

        Assert.Equal(["jmuller", "jmueller"], candidates.Take(2).Select(c => c.LocalPart));
        Assert.Equal("jurgen.muller", candidates[2].LocalPart);
    }

    [Fact]
    public void Later_spellings_rank_below_the_main_spelling_of_the_same_pattern()
    {
        var candidates = Candidates.For(PersonNames.Parse("Jane", "Müller"), maxCount: 100).Select(c => c.LocalPart).ToList();

        Assert.True(candidates.IndexOf("jane.muller") < candidates.IndexOf("jane.mueller"));
        Assert.True(candidates.IndexOf("jmuller") < candidates.IndexOf("jmueller"));
        // A pattern that ignores the last name is not penalised for its spellings.
        Assert.Equal(0.14, Candidates.For(PersonNames.Parse("Jane", "Müller"), maxCount: 100).Single(c => c.LocalPart == "jane").Prior);
    }

    [Fact]
    public void Candidates_are_deduplicated_and_capped()
    {
        var all = Candidates.For(PersonNames.Parse("Jean-Pierre", "Garcia-Lopez"), maxCount: 1000);

        Assert.Equal(all.Count, all.Select(c => c.LocalPart).Distinct().Count());
        Assert.Equal(5, Candidates.For(JaneDoe, maxCount: 5).Count);
        Assert.Empty(Candidates.For(JaneDoe, maxCount: 0));
        Assert.Equal(Candidates.DefaultMaxCount, Candidates.For(JaneDoe).Count);
    }

    [Fact]
    public void A_one_letter_first_name_gives_only_patterns_that_make_sense()
    {
        var candidates = Candidates.For(PersonNames.Parse("J", "Doe"), maxCount: 100);

        Assert.Contains(candidates, c => c is { LocalPart: "j.doe", Pattern: AddressPattern.FDotLast });
        Assert.Contains(candidates, c => c is { LocalPart: "jdoe", Pattern: AddressPattern.FLast });
        Assert.DoesNotContain(candidates, c => c.LocalPart == "j");
        Assert.DoesNotContain(candidates, c => c.Pattern is AddressPattern.FirstDotLast or AddressPattern.First or AddressPattern.FirstLast);
        Assert.Equal([AddressPattern.FDotLast], AddressPatterns.Detect("j.doe", PersonNames.Parse("J", "Doe")));
    }

    [Fact]
    public void With_one_name_missing_only_patterns_of_the_other_are_tried()
    {
        Assert.Equal(["jane"], Candidates.For(PersonNames.Parse("Jane", "王")).Select(c => c.LocalPart));
        Assert.Empty(Candidates.For(NameParts.None));
    }

    [Fact]
    public void A_role_mailbox_is_never_a_persons_candidate()
    {
        var candidates = Candidates.For(PersonNames.Parse("Sales", "Info"), maxCount: 100);

        Assert.DoesNotContain(candidates, c => c.LocalPart is "sales" or "info");
        Assert.Contains(candidates, c => c.LocalPart == "sales.info");
    }

    [Theory]
    [InlineData("Jane.Doe", AddressPattern.FirstDotLast)]
    [InlineData(" JDOE ", AddressPattern.FLast)]
    [InlineData("jane.mueller", AddressPattern.FirstDotLast)]
    [InlineData("jmuller", AddressPattern.FLast)]
    public void Detection_reads_any_case_and_any_spelling(string localPart, AddressPattern expected)
    {
        var name = PersonNames.Parse("Jane", localPart.Contains("mu") ? "Müller" : "Doe");

        Assert.Equal(expected, AddressPatterns.Detect(localPart, name)[0]);
    }

    [Theory]
    [InlineData("info")]
    [InlineData("john.smith")]
    [InlineData("")]
    [InlineData("jane.doe2")]
    public void An_address_that_follows_no_pattern_for_the_name_is_detected_as_none(string localPart)
    {
        Assert.Empty(AddressPatterns.Detect(localPart, JaneDoe));
    }

    [Fact]
    public void Detection_learns_compound_and_particle_spellings()
    {
        Assert.Equal([AddressPattern.FirstDotLast], AddressPatterns.Detect("jean-pierre.dupont", PersonNames.Parse("Jean-Pierre", "Dupont")));
        Assert.Equal([AddressPattern.FLast], AddressPatterns.Detect("lberg", PersonNames.Parse("Lotte", "van der Berg")));
        Assert.Equal([AddressPattern.FirstDotLast], AddressPatterns.Detect("lotte.vanderberg", PersonNames.Parse("Lotte", "van der Berg")));
    }
}
