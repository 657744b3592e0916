using System.Text.RegularExpressions;
using PeopleEnrich.Sources.EmailFinder;
using PeopleEnrich.Vocabulary;

namespace PeopleEnrich.Tests.EmailFinder;

public sealed class PersonNamesTests
{
    private static readonly Regex NamePart = new("^[a-z0-9]+(?:-[a-z0-9]+)*$");

    private static readonly Regex WireSafe = new("^[a-z0-9._-]+$");

    [Theory]
    [InlineData("Müller", "muller,mueller")]
    [InlineData("Ångström", "angstrom,aangstroem")]
    [InlineData("Łukasz", "lukasz")]
    [InlineData("Zoë", "zoe")]
    [InlineData("Strauß", "strauss")]
    [InlineData("Søren", "soren,soeren")]
    [InlineData("Ærø", "aero,aeroe")]
    [InlineData("François", "francois")]
    [InlineData("Peña", "pena")]
    [InlineData("Hélène", "helene")]
    [InlineData("O'Neil", "oneil")]
    [InlineData("D’Angelo", "dangelo")]
    [InlineData("SMITH", "smith")]
    [InlineData("  smith  ", "smith")]
    [InlineData("Garcia-Lopez", "garcialopez,garcia-lopez,garcia")]
    [InlineData("Garcia Lopez", "garcialopez,garcia-lopez,garcia")]
    [InlineData("van der Berg", "vanderberg,berg")]
    [InlineData("van Beethoven", "vanbeethoven,beethoven")]
    [InlineData("de la Cruz", "delacruz,cruz")]
    [InlineData("von Müller", "vonmuller,muller,vonmueller,mueller")]
    [InlineData("al-Rashid", "alrashid,rashid")]
    [InlineData("Van", "van")]
    [InlineData("Smith Jr.", "smith")]
    [InlineData("Smith, III", "smith")]
    [InlineData("Smith Ph.D.", "smith")]
    [InlineData("Ｄｏｅ", "doe")]
    [InlineData("Петров", "petrov")]
    [InlineData("Щербакова", "shcherbakova,scherbakova")]
    [InlineData("Ковальчук", "kovalchuk")]
    [InlineData("Хрущёв", "khrushchev,hruschyov")]
    [InlineData("Παπαδόπουλος", "papadopoulos,papadopoylos")]
    [InlineData("Οικονόμου", "oikonomou,oikonomoy")]
    public void Last_names_give_ascii_spellings_best_first(string lastName, string expected)
    {
        var name = PersonNames.Parse("Jane", lastName);

        Assert.Equal(expected.Split(','), name.Lasts);
    }

    [Theory]
    [InlineData("Jean-Pierre", "jeanpierre,jean-pierre,jp", null)]
    [InlineData("Mary Ann", "maryann,mary", "a")]
    [InlineData("John F.", "john", "f")]
    [InlineData("John F. X.", "john", "f")]
    [InlineData("Dr. John", "john", null)]
    [InlineData("Prof Dr Anna", "anna", null)]
    [InlineData("Mr", "mr", null)]
    [InlineData("Zoë", "zoe", null)]
    [InlineData("Jürgen", "jurgen,juergen", null)]
    [InlineData("X", "x", null)]
    [InlineData("Юлия", "yuliya,iuliia", null)]
    [InlineData("Γιώργος", "giorgos", null)]
    [InlineData("J R", "j", "r")]
    public void First_names_give_spellings_and_the_middle_initial(string firstName, string expected, string? middle)
    {
        var name = PersonNames.Parse(firstName, "Doe");

        Assert.Equal(expected.Split(','), name.Firsts);
        Assert.Equal(middle, name.MiddleInitial);
    }

    [Fact]
    public void Titles_and_suffixes_are_dropped()
    {
        var name = PersonNames.Parse("Dr. John", "Smith Jr.");

        Assert.Equal(["john"], name.Firsts);
        Assert.Equal(["smith"], name.Lasts);
    }

    [Theory]
    [InlineData("Dr. John Smith Jr.", "", "john", "smith")]
    [InlineData("Ludwig van Beethoven", "", "ludwig", "vanbeethoven")]
    [InlineData("", "Grace Hopper", "grace", "hopper")]
    public void A_whole_name_in_one_field_is_split(string firstName, string lastName, string first, string last)
    {
        var name = PersonNames.Parse(firstName, lastName);

        Assert.Equal(first, name.Firsts[0]);
        Assert.Equal(last, name.Lasts[0]);
    }

    [Theory]
    [InlineData("王")]
    [InlineData("김")]
    [InlineData("😀")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void A_name_with_no_ascii_spelling_gives_nothing_rather_than_a_guess(string? lastName)
    {
        var name = PersonNames.Parse("Jane", lastName);

        Assert.Empty(name.Lasts);
        Assert.Equal(["jane"], name.Firsts);
    }

    [Theory]
    [InlineData("Jane\r\nRCPT TO:<x@evil>")]
    [InlineData("Jane\r\n.\r\nQUIT")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("\"quoted\"")]
    [InlineData("a@b")]
    [InlineData("jane doe@evil.com")]
    [InlineData("Jane\0Doe")]
    [InlineData("Jane\u001b[31mDoe")]
    [InlineData("\u202Eeod\u202C")]
    [InlineData("Ja\u200Bne\u200D")]
    [InlineData("Jane 😀🎉")]
    [InlineData("Jane%0d%0aDATA")]
    [InlineData("Jane;DROP TABLE people;--")]
    [InlineData("Jane_.+Doe")]
    [InlineData("--")]
    [InlineData("Zoë")]
    [InlineData("Łukasz")]
    [InlineData("Müller")]
    [InlineData("Ångström")]
    [InlineData("Jean-Pierre")]
    [InlineData("O'Neil")]
    [InlineData("van der Berg")]
    [InlineData("Dr. John Smith Jr.")]
    [InlineData("Mary Ann")]
    [InlineData("X")]
    public void Whatever_is_typed_only_safe_characters_come_out(string typed)
    {
        foreach (var name in new[] { PersonNames.Parse(typed, "Doe"), PersonNames.Parse("Jane", typed), PersonNames.Parse(typed, typed) })
        {
            Assert.All(name.Firsts.Concat(name.Lasts), part => Assert.Matches(NamePart, part));
            Assert.True(name.MiddleInitial is null || Regex.IsMatch(name.MiddleInitial, "^[a-z0-9]$"), name.MiddleInitial);
            Assert.All(Candidates.For(name, maxCount: 100), candidate => Assert.Matches(WireSafe, candidate.LocalPart));
        }
    }

    [Fact]
    public void An_injection_attempt_keeps_its_words_but_none_of_its_syntax()
    {
        var name = PersonNames.Parse("Jane\r\nRCPT TO:<x@evil>", "Doe");

        Assert.Equal("jane", name.Firsts[1]);
        Assert.DoesNotContain(name.Firsts, f => f.Contains('<') || f.Contains('@') || f.Contains(':'));
    }

    [Fact]
    public void A_lone_surrogate_is_dropped_not_thrown_on()
    {
        var name = PersonNames.Parse("\ud800Jane\udc00", "Doe");

        Assert.Equal(["jane"], name.Firsts);
    }

    [Fact]
    public void Decomposed_and_composed_input_read_the_same()
    {
        Assert.Equal(PersonNames.Parse("Zoe\u0308", "Mu\u0308ller"), PersonNames.Parse("Zoë", "Müller"), new NamePartsComparer());
    }

    [Fact]
    public void Very_long_input_is_cut_to_parts_that_fit_an_address()
    {
        var name = PersonNames.Parse(new string('a', 10_000), "Doe");

        Assert.Empty(name.Firsts);
        Assert.Equal(["doe"], name.Lasts);
    }

    private sealed class NamePartsComparer : IEqualityComparer<NameParts>
    {
        public bool Equals(NameParts? x, NameParts? y) =>
            x is not null && y is not null && x.Firsts.SequenceEqual(y.Firsts) && x.Lasts.SequenceEqual(y.Lasts) && x.MiddleInitial == y.MiddleInitial;

        public int GetHashCode(NameParts obj) => 0;
    }
}
