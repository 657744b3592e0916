using PeopleEnrich.Sources.Upstream;

namespace PeopleEnrich.Tests.Upstream;

/// <summary>What another server wrote is logged as one short line, with our key blanked out.</summary>
public sealed class ForeignTextTests
{
    private const string Key = "pe_upstream_secret_0123456789";

    [Fact]
    public void The_key_is_blanked_out_even_where_the_line_is_cut()
    {
        Assert.Equal("the key '[api key]' is unknown", ForeignText.Loggable($"the key '{Key}' is unknown", Key));

        // Cut at 300 characters, the key's first five would be the line's last five.
        var cutInsideTheKey = ForeignText.Loggable(new string('x', 295) + Key, Key);
        Assert.Equal(300, cutInsideTheKey.Length);
        Assert.DoesNotContain(Key[..5], cutInsideTheKey);
    }

    [Fact]
    public void Line_breaks_and_control_characters_cannot_forge_a_log_line()
    {
        Assert.Equal("bad  FORGED: admin logged in", ForeignText.Loggable("bad\r\nFORGED: admin logged in", Key));
    }
}
