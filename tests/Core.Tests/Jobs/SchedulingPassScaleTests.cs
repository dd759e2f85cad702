using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Tests.Jobs;

/// <summary>A long queue: every job gets a reason and a position; the first <see cref="SchedulingPass.MaxEstimates"/> an estimate.</summary>
public sealed class SchedulingPassScaleTests
{
    [Fact]
    public void ALongQueue_GetsReasonsAndPositionsForAll_AndEstimatesForTheFirstMaxEstimates()
    {
        var now = new DateTimeOffset(2026, 11, 21, 18, 0, 0, TimeSpan.Zero);
        var user = Guid.NewGuid();
        var account = Guid.NewGuid();
        var count = SchedulingPass.MaxEstimates + 50;
        var queued = Enumerable.Range(0, count).Select(i => new QueuedJob(Guid.NewGuid(), account, user, 0, now.AddSeconds(-count + i),
            [new ReplicaDemand("trainer", 0, 1, 0, 256)], TimeSpan.FromMinutes(5))).ToList();
        var running = new RunningJob(Guid.NewGuid(), account, user, [new Placement(new ReplicaDemand("trainer", 0, 2, 0, 256), "node")], now.AddMinutes(10));
        var snapshot = new SchedulerSnapshot(now, [new NodeCapacity("node", 2, 0, 4096)], [running], queued,
            new Dictionary<Guid, ConcurrencyLimits>(), new Dictionary<Guid, ConcurrencyLimits>(), new Dictionary<Guid, IReadOnlyList<TimeBudget>>(),
            new Dictionary<Guid, IReadOnlyList<TimeBudget>>(), new Dictionary<Guid, double>(), new Dictionary<Guid, double>());

        var decisions = SchedulingPass.Decide(snapshot);

        Assert.All(decisions, d => Assert.False(d.Start));
        Assert.Equal(Enumerable.Range(1, count), decisions.Select(d => d.Position!.Value));
        Assert.All(decisions, d => Assert.Equal("waiting for 1 CPU (2 of 2 in use)", d.Reason));
        // Two at a time every 5 minutes from the running job's end: job k (0-based) starts at 10 + 5 * (k / 2) minutes.
        for (var k = 0; k < SchedulingPass.MaxEstimates; k++)
        {
            Assert.Equal(now.AddMinutes(10 + 5 * (k / 2)), decisions[k].EstimatedStart);
        }

        Assert.All(decisions.Skip(SchedulingPass.MaxEstimates), d => Assert.Null(d.EstimatedStart));
    }
}
