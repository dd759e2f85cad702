namespace Platform.Core.Usage;

/// <summary>
/// One replica's samples in time order, one point per 10 s: CPU in cores, memory in bytes, GPU in percent (summed over
/// its GPUs), network and disk in bytes during the 10 s. Null where nothing was measured.
/// </summary>
public sealed record ReplicaUsageSeries(
    string Replica,
    IReadOnlyList<DateTimeOffset> T,
    IReadOnlyList<double?> Cpu,
    IReadOnlyList<long?> Memory,
    IReadOnlyList<double?> Gpu,
    IReadOnlyList<long?> NetRx,
    IReadOnlyList<long?> NetTx,
    IReadOnlyList<long?> DiskRead,
    IReadOnlyList<long?> DiskWrite);

/// <summary>A workload's charts: <see cref="Running"/> says whether more points are coming; <see cref="Notes"/> what is not measured and why.</summary>
public sealed record WorkloadUsageResponse(Guid Id, string Kind, string State, bool Running, IReadOnlyList<string> Notes, IReadOnlyList<ReplicaUsageSeries> Replicas);

/// <summary>A cap and what counts against it now; <see cref="Limit"/> null is no cap.</summary>
public sealed record UsageLimitRow(string Group, string Label, double? Limit, double Used, string Unit);

/// <summary>CPU-hours and GPU-hours allocated in one bucket (an hour or a day), jobs and IDEs (deployments) apart.</summary>
public sealed record UsageBucket(DateTimeOffset Start, double JobCpuHours, double JobGpuHours, double IdeCpuHours, double IdeGpuHours);

/// <summary>One workload's total over the window.</summary>
public sealed record WorkloadUsageRow(string Kind, Guid Id, string Name, Guid UserId, string User, double CpuHours, double GpuHours, double MemoryGiBHours);

/// <summary>
/// <c>GET /usage</c>: for the caller (scope "me") or a whole account (scope "account", masters): limits against what
/// is in use now, CPU- and GPU-hours per bucket over the window (hours for "day", days for "week" and "month"), and
/// the workloads behind them.
/// </summary>
public sealed record UsageReportResponse(
    Guid AccountId,
    string AccountName,
    string Scope,
    string Window,
    string Bucket,
    DateTimeOffset From,
    DateTimeOffset To,
    bool CanSeeAccount,
    IReadOnlyList<UsageLimitRow> Limits,
    IReadOnlyList<UsageBucket> Buckets,
    IReadOnlyList<WorkloadUsageRow> Workloads,
    double CpuHours,
    double GpuHours);

/// <summary>A node of the batch backend: what it offers, what running work asked for on it, and what it uses now.</summary>
public sealed record NodeResponse(
    string Name,
    string Backend,
    double Cpus,
    int Gpus,
    long MemoryMiB,
    double AllocatedCpus,
    int AllocatedGpus,
    long AllocatedMemoryMiB,
    int RunningReplicas,
    int RunningDeployments,
    double? CpuPercent,
    long? MemoryUsedBytes,
    long? MemoryTotalBytes,
    DateTimeOffset At);
