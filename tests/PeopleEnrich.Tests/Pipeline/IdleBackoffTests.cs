using PeopleEnrich.Pipeline.Workers;

namespace PeopleEnrich.Tests.Pipeline;

/// <summary>An idle worker's waits between looks for work: doubling from half a second to Workers:IdlePollInterval, and from the start after a wake-up.</summary>
public sealed class IdleBackoffTests
{
    [Fact]
    public void Waits_double_from_half_a_second_up_to_the_interval_and_start_again_after_a_wake_up()
    {
        var idle = new IdleBackoff(TimeSpan.FromSeconds(5));
        Assert.Equal([0.5, 1, 2, 4, 5, 5], Enumerable.Range(0, 6).Select(_ => idle.Next().TotalSeconds));

        idle.Reset();
        Assert.Equal([0.5, 1], Enumerable.Range(0, 2).Select(_ => idle.Next().TotalSeconds));
    }

    [Fact]
    public void An_interval_shorter_than_the_doubling_caps_every_wait()
    {
        var idle = new IdleBackoff(TimeSpan.FromSeconds(1.5));
        Assert.Equal([0.5, 1, 1.5, 1.5, 1.5], Enumerable.Range(0, 5).Select(_ => idle.Next().TotalSeconds));
    }

    [Fact]
    public void A_long_interval_is_reached_after_the_four_doublings()
    {
        var idle = new IdleBackoff(TimeSpan.FromMinutes(10));
        Assert.Equal([0.5, 1, 2, 4, 600, 600], Enumerable.Range(0, 6).Select(_ => idle.Next().TotalSeconds));
    }
}
