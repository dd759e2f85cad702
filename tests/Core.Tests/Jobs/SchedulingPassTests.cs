using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Tests.Jobs;

public sealed class SchedulingPassTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 18, 0, 0, TimeSpan.Zero);
    private static readonly Guid Alice = Guid.NewGuid();
    private static readonly Guid Bob = Guid.NewGuid();
    private static readonly Guid Lab = Guid.NewGuid();
    private static readonly Guid Team = Guid.NewGuid();

    private static int _submitted;

    private static QueuedJob Job(Guid user, Guid account, int trainers = 1, double cpus = 1, int gpus = 0, int memoryMiB = 1024,
        int priority = 0, TimeSpan? duration = null, int parameterServers = 0) =>
        new(Guid.NewGuid(), account, user, priority, Now.AddMinutes(-100 + Interlocked.Increment(ref _submitted)),
            [.. Enumerable.Range(0, trainers).Select(i => new ReplicaDemand("trainer", i, cpus, gpus, memoryMiB)),
             .. Enumerable.Range(0, parameterServers).Select(i => new ReplicaDemand("pserver", i, 1, 0, 512))],
            duration);

    private static RunningJob Running(Guid user, Guid account, string node, double cpus, int gpus, TimeSpan? endsIn) =>
        new(Guid.NewGuid(), account, user, [new Placement(new ReplicaDemand("trainer", 0, cpus, gpus, 1024), node)], endsIn is { } e ? Now + e : null);

    private static SchedulerSnapshot Snapshot(NodeCapacity[] nodes, QueuedJob[] queued, RunningJob[]? running = null,
        Dictionary<Guid, ConcurrencyLimits>? userLimits = null, Dictionary<Guid, IReadOnlyList<TimeBudget>>? accountBudgets = null,
        Dictionary<Guid, double>? recentUse = null) =>
        new(Now, nodes, running ?? [], queued, userLimits ?? [], new Dictionary<Guid, ConcurrencyLimits>(), new Dictionary<Guid, IReadOnlyList<TimeBudget>>(),
            accountBudgets ?? [], new Dictionary<Guid, double>(), recentUse ?? []);

    private static JobDecision Of(IReadOnlyList<JobDecision> decisions, QueuedJob job) => decisions.Single(d => d.JobId == job.Id);

    [Fact]
    public void AJobThatFits_Starts_AndOneShortOfAGpu_WaitsWithTheReasonPositionAndTheRunningJobsEnd()
    {
        var first = Job(Alice, Lab, gpus: 1);
        var second = Job(Alice, Lab, gpus: 1);
        var decisions = SchedulingPass.Decide(Snapshot([new NodeCapacity("node-1", 16, 2, 65536)], [first, second],
            [Running(Bob, Team, "node-1", 2, 1, TimeSpan.FromMinutes(40))]));

        var started = Of(decisions, first);
        Assert.True(started.Start);
        Assert.Equal("node-1", Assert.Single(started.Placements).Node);
        var waiting = Of(decisions, second);
        Assert.False(waiting.Start);
        Assert.Equal("waiting for 1 GPU (2 of 2 in use)", waiting.Reason);
        Assert.Equal(1, waiting.Position);
        Assert.Equal(Now.AddMinutes(40), waiting.EstimatedStart);
    }

    [Fact]
    public void Replicas_ArePlacedAllTogether_AcrossNodes_OrNotAtAll()
    {
        NodeCapacity[] nodes = [new("a", 2, 0, 8192), new("b", 1, 0, 8192)];
        var three = Job(Alice, Lab, trainers: 2, parameterServers: 1);
        var placed = Of(SchedulingPass.Decide(Snapshot(nodes, [three])), three);
        Assert.True(placed.Start);
        Assert.Equal(3, placed.Placements.Count);
        Assert.Equal(2, placed.Placements.Count(p => p.Node == "a"));

        var four = Job(Alice, Lab, trainers: 4);
        var refused = Of(SchedulingPass.Decide(Snapshot(nodes, [four])), four);
        Assert.False(refused.Start);
        Assert.Empty(refused.Placements);
        Assert.Equal("waiting for 1 CPU (0 of 3 in use)", refused.Reason);
    }

    [Fact]
    public void AReplicaLargerThanEveryNode_IsNeverPlaceable_AndTakesNoPlaceInLine()
    {
        var huge = Job(Alice, Lab, gpus: 4);
        var decision = Of(SchedulingPass.Decide(Snapshot([new NodeCapacity("node-1", 16, 2, 65536)], [huge])), huge);
        Assert.True(decision.Never);
        Assert.Null(decision.Position);
        Assert.Equal("trainer 0 asks for 4 GPUs; the largest node has 2", decision.Reason);
    }

    [Fact]
    public void ASpentGpuBudget_HoldsGpuJobsUntilItResets_WhileCpuJobsOfTheAccountStart()
    {
        var reset = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        var budgets = new Dictionary<Guid, IReadOnlyList<TimeBudget>>
        {
            [Lab] = [new TimeBudget(Gpu: true, BudgetWindow.Day, LimitHours: 8, UsedHours: 8, reset), new TimeBudget(false, BudgetWindow.Month, 1000, 10, reset.AddDays(9))],
        };
        var gpuJob = Job(Alice, Lab, gpus: 1);
        var cpuJob = Job(Alice, Lab);
        var decisions = SchedulingPass.Decide(Snapshot([new NodeCapacity("node-1", 16, 2, 65536)], [gpuJob, cpuJob], accountBudgets: budgets));

        var held = Of(decisions, gpuJob);
        Assert.False(held.Start);
        Assert.Equal("waiting: the account's GPU-hours for today are spent (8 of 8 h); they reset 2026-11-22 00:00 UTC", held.Reason);
        Assert.Equal(reset, held.EstimatedStart);
        Assert.True(Of(decisions, cpuJob).Start);
    }

    [Fact]
    public void AUsersConcurrentLimit_SaysHowManyTheyRun()
    {
        var limits = new Dictionary<Guid, ConcurrencyLimits> { [Alice] = new(MaxRunningJobs: 1) };
        var job = Job(Alice, Lab);
        var decision = Of(SchedulingPass.Decide(Snapshot([new NodeCapacity("node-1", 16, 0, 65536)], [job],
            [Running(Alice, Lab, "node-1", 1, 0, TimeSpan.FromMinutes(5))], userLimits: limits)), job);
        Assert.False(decision.Start);
        Assert.Equal("waiting: you run 1 of your 1 allowed jobs", decision.Reason);
        Assert.Equal(Now.AddMinutes(5), decision.EstimatedStart);
    }

    [Fact]
    public void FairShare_GivesTheRoomToTheAccountThatUsedLeast_AndPriorityOrdersJobsWithinOne()
    {
        var labEarly = Job(Alice, Lab, cpus: 2);
        var teamLow = Job(Bob, Team, cpus: 2, priority: 0);
        var teamHigh = Job(Bob, Team, cpus: 2, priority: 5);
        var decisions = SchedulingPass.Decide(Snapshot([new NodeCapacity("node-1", 2, 0, 65536)], [labEarly, teamLow, teamHigh],
            recentUse: new Dictionary<Guid, double> { [Lab] = 1, [Team] = 0 }));

        Assert.True(Of(decisions, teamHigh).Start);
        Assert.False(Of(decisions, teamLow).Start);
        Assert.False(Of(decisions, labEarly).Start);
        // Team's use grows by what it was given (2 CPU-hours, above Lab's 1), so Lab comes next in line, then Team's other job.
        Assert.Equal(1, Of(decisions, labEarly).Position);
        Assert.Equal(2, Of(decisions, teamLow).Position);
    }

    [Fact]
    public void Backfill_StartsAShortJobThatEndsBeforeTheHeadStarts_ButNotOneThatWouldDelayIt()
    {
        NodeCapacity[] nodes = [new("node-1", 4, 0, 65536)];
        var big = Job(Alice, Lab, cpus: 4, duration: TimeSpan.FromHours(2));
        var shortOne = Job(Alice, Lab, cpus: 2, duration: TimeSpan.FromMinutes(30));
        var unknown = Job(Alice, Lab, cpus: 2);
        var decisions = SchedulingPass.Decide(Snapshot(nodes, [big, shortOne, unknown], [Running(Bob, Team, "node-1", 2, 0, TimeSpan.FromHours(1))]));

        var head = Of(decisions, big);
        Assert.False(head.Start);
        Assert.Equal(Now.AddHours(1), head.EstimatedStart);
        Assert.Equal(1, head.Position);
        Assert.True(Of(decisions, shortOne).Start);
        var held = Of(decisions, unknown);
        Assert.False(held.Start);
        Assert.StartsWith("waiting", held.Reason);
        Assert.Equal(2, held.Position);
    }

    [Fact]
    public void WaitingJobs_AreEstimatedOneAfterAnother()
    {
        NodeCapacity[] nodes = [new("node-1", 8, 1, 65536)];
        var x = Job(Alice, Lab, gpus: 1, duration: TimeSpan.FromHours(2));
        var y = Job(Alice, Lab, gpus: 1, duration: TimeSpan.FromHours(1));
        var decisions = SchedulingPass.Decide(Snapshot(nodes, [x, y], [Running(Bob, Team, "node-1", 1, 1, TimeSpan.FromHours(1))]));

        Assert.Equal(Now.AddHours(1), Of(decisions, x).EstimatedStart);
        Assert.Equal(1, Of(decisions, x).Position);
        Assert.Equal(Now.AddHours(3), Of(decisions, y).EstimatedStart);
        Assert.Equal(2, Of(decisions, y).Position);
        Assert.Equal("waiting for 1 GPU (1 of 1 in use)", Of(decisions, y).Reason);
    }
}
