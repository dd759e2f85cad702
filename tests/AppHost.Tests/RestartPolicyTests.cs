using Platform.AppHost.Processes;

namespace Platform.AppHost.Tests;

public class RestartPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void NextDelay_BacksOffExponentially_ThenGivesUpAfterFiveRestartsInFiveMinutes()
    {
        var policy = new RestartPolicy();

        var delays = Enumerable.Range(0, 5).Select(i => policy.NextDelay(Start.AddSeconds(i * 10))).ToList();

        Assert.Equal([1, 2, 4, 8, 16], delays.Select(d => d!.Value.TotalSeconds));
        Assert.Null(policy.NextDelay(Start.AddMinutes(1)));
    }

    [Fact]
    public void NextDelay_ForgetsRestartsOlderThanTheWindow()
    {
        var policy = new RestartPolicy();
        for (var i = 0; i < 5; i++)
        {
            policy.NextDelay(Start);
        }

        Assert.Equal(TimeSpan.FromSeconds(1), policy.NextDelay(Start.AddMinutes(5)));
    }
}
