namespace Platform.Core.Jobs.Scheduling;

/// <summary>What one node offers to jobs (the process backend is one node: this machine).</summary>
public sealed record NodeCapacity(string Name, double Cpus, int Gpus, long MemoryMiB);

/// <summary>What one replica of a job asks for; replicas of a job are placed all together or not at all.</summary>
public sealed record ReplicaDemand(string Role, int Index, double Cpus, int Gpus, int MemoryMiB)
{
    public string Label => $"{Role} {Index}";
}

/// <summary>A job waiting for a decision.</summary>
/// <param name="ExpectedDuration">How long it is expected to run (its time limit, or its history); null when unknown.</param>
public sealed record QueuedJob(
    Guid Id,
    Guid AccountId,
    Guid UserId,
    int Priority,
    DateTimeOffset SubmittedAt,
    IReadOnlyList<ReplicaDemand> Replicas,
    TimeSpan? ExpectedDuration = null)
{
    public double Cpus => Replicas.Sum(r => r.Cpus);
    public int Gpus => Replicas.Sum(r => r.Gpus);
}

/// <summary>A replica placed on a node.</summary>
public sealed record Placement(ReplicaDemand Replica, string Node);

/// <summary>A job holding resources; <c>ExpectedEnd</c> null when unknown (it then frees nothing in the estimate).</summary>
public sealed record RunningJob(Guid Id, Guid AccountId, Guid UserId, IReadOnlyList<Placement> Placements, DateTimeOffset? ExpectedEnd);

/// <summary>Concurrent limits of a user or an account (null: no limit).</summary>
public sealed record ConcurrencyLimits(int? MaxRunningJobs = null, double? MaxCpus = null, int? MaxGpus = null)
{
    public static ConcurrencyLimits None { get; } = new();
}

public enum BudgetWindow
{
    Day,
    Week,
    Month,
}

/// <summary>
/// A time budget of a user or an account: CPU-hours or GPU-hours per window, how many are used in the current window,
/// and when the window starts again. A spent budget holds back every job that needs that resource until the reset.
/// </summary>
public sealed record TimeBudget(bool Gpu, BudgetWindow Window, double LimitHours, double UsedHours, DateTimeOffset ResetsAt);

/// <summary>Everything one scheduling pass decides on, read in bulk from the database.</summary>
/// <param name="Weights">Fair-share weight per account (absent: 1).</param>
/// <param name="RecentUse">Resource-hours each account used recently (absent: 0); the account that used least goes first.</param>
public sealed record SchedulerSnapshot(
    DateTimeOffset Now,
    IReadOnlyList<NodeCapacity> Nodes,
    IReadOnlyList<RunningJob> Running,
    IReadOnlyList<QueuedJob> Queued,
    IReadOnlyDictionary<Guid, ConcurrencyLimits> UserLimits,
    IReadOnlyDictionary<Guid, ConcurrencyLimits> AccountLimits,
    IReadOnlyDictionary<Guid, IReadOnlyList<TimeBudget>> UserBudgets,
    IReadOnlyDictionary<Guid, IReadOnlyList<TimeBudget>> AccountBudgets,
    IReadOnlyDictionary<Guid, double> Weights,
    IReadOnlyDictionary<Guid, double> RecentUse);

/// <summary>What the pass decided for one queued job.</summary>
/// <param name="Start">True: start now on <c>Placements</c>.</param>
/// <param name="Reason">Why it waits, in words for its owner ("waiting for 1 GPU: 2 of 2 in use"); null when it starts.</param>
/// <param name="Position">1-based place among the waiting jobs, in the order they will be considered; null when it starts.</param>
/// <param name="EstimatedStart">When it is expected to start (null: cannot be told, e.g. a running job's end is unknown).</param>
/// <param name="Never">It can never be placed as asked (a replica larger than every node): refuse rather than queue.</param>
public sealed record JobDecision(
    Guid JobId,
    bool Start,
    IReadOnlyList<Placement> Placements,
    string? Reason,
    int? Position,
    DateTimeOffset? EstimatedStart,
    bool Never = false);
