namespace Platform.Core.Jobs;

public enum JobType
{
    Train,
    Evaluate,
}

/// <summary>What the user wants of a job: to run (until it ends by itself) or to be stopped.</summary>
public enum JobDesired
{
    Running,
    Stopped,
}

/// <summary>
/// What Workers last saw. Queued (the scheduler has not admitted it; <see cref="Job.QueueReason"/> says why), Starting
/// (admitted and placed; the reconciler launches its replicas), Running, then one of the ends: Succeeded, Failed, Stopped.
/// Stopping is on the way to Stopped.
/// </summary>
public enum JobObserved
{
    Queued,
    Starting,
    Running,
    Stopping,
    Succeeded,
    Failed,
    Stopped,
}

public enum ReplicaRole
{
    Trainer,
    ParameterServer,
}

public enum ReplicaObserved
{
    Pending,
    Starting,
    Running,
    Succeeded,
    Failed,
    Stopped,
}

/// <summary>
/// A training or evaluation job: a command (or a module's, or an image's) run as replicas (trainers and parameter
/// servers) placed all together. Desire and observation side by side as for deployments: users change
/// <see cref="Desired"/> (bumping <see cref="Generation"/>), the scheduler moves Queued → Starting, the reconciler the rest.
/// </summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public Guid OwnerUserId { get; set; }
    public string Name { get; set; } = "";
    public JobType Type { get; set; }

    /// <summary>A catalog module whose command and image the job runs (null: the command alone, or the image).</summary>
    public string? Module { get; set; }

    /// <summary>The container image (container backends); null runs the command on the node itself (process backend).</summary>
    public string? Image { get; set; }

    /// <summary>The program and its arguments (argv, no shell); empty with an image runs the image's own command.</summary>
    public List<string> Command { get; set; } = [];

    /// <summary>key=value options, given to every replica as <c>PLATFORM_OPTION_{KEY}</c> and in <c>options.json</c> (jsonb).</summary>
    public string Options { get; set; } = "{}";

    /// <summary>Datasets as <c>name@version</c>, mounted read-only at <c>datasets/{name}</c> in the working folder.</summary>
    public List<string> Datasets { get; set; } = [];

    /// <summary>A dataset (<c>name@version</c>) whose files are copied into the working folder first: the job's code.</summary>
    public string? Code { get; set; }

    /// <summary>A model name: on success the <c>output/</c> folder becomes its next version (null: outputs are not kept).</summary>
    public string? OutputModel { get; set; }

    /// <summary>The model version the outputs became, once they did.</summary>
    public int? OutputModelVersion { get; set; }

    /// <summary>Within the account: higher goes first.</summary>
    public int Priority { get; set; }

    /// <summary>The wall-clock limit in minutes (null: the platform's); also what the scheduler expects it to take.</summary>
    public int? TimeLimitMinutes { get; set; }

    public JobDesired Desired { get; set; }
    public JobObserved Observed { get; set; }

    /// <summary>Why it is in its observed state, for people ("trainer 1 exited with code 2: …").</summary>
    public string? Reason { get; set; }

    /// <summary>While queued: why it waits ("waiting for 1 GPU: 2 of 2 in use"), its position and its estimated start.</summary>
    public string? QueueReason { get; set; }
    public int? QueuePosition { get; set; }
    public DateTimeOffset? EstimatedStartAt { get; set; }

    public long Generation { get; set; }
    public long ObservedGeneration { get; set; }

    /// <summary>The backend it was submitted to (<c>Compute:Backend</c> then); each row keeps its own.</summary>
    public string Backend { get; set; } = "";

    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset? NextCheckAt { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>What the job last reported through the SDK's <c>report_progress</c>: 0 to 1, and a line of text.</summary>
    public double? Progress { get; set; }
    public string? ProgressMessage { get; set; }
    public DateTimeOffset? ProgressAt { get; set; }

    /// <summary>The job this one was cloned or resubmitted from.</summary>
    public Guid? CloneOf { get; set; }

    /// <summary>SHA-256 of the PLATFORM_API_KEY its replicas get (a workload key); the key itself is never stored.</summary>
    public byte[]? TokenHash { get; set; }
}

/// <summary>
/// One process or container of a job. The scheduler fills <see cref="Node"/>; the reconciler chooses <see cref="Port"/>
/// for every replica before any starts (so each knows its peers), then launches them and records how each ends.
/// </summary>
public sealed class JobReplica
{
    public Guid JobId { get; set; }
    public ReplicaRole Role { get; set; }
    public int Index { get; set; }
    public double Cpus { get; set; }
    public int Gpus { get; set; }
    public int MemoryMiB { get; set; }
    public string? Node { get; set; }
    public int? Port { get; set; }

    /// <summary>Opaque to all but the job's backend (jsonb).</summary>
    public string? BackendState { get; set; }

    public ReplicaObserved Observed { get; set; }
    public int? ExitCode { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Log bytes shipped to the object store so far (the shipper resumes from here after a restart).</summary>
    public long LogBytes { get; set; }

    /// <summary>Whether the shipper still follows the replica's log, stopped at the cap, or is done with it for good.</summary>
    public JobLogState LogState { get; set; }

    /// <summary>The replica's name in its role's numbering: "trainer-0", "pserver-1".</summary>
    public string Label => $"{(Role == ReplicaRole.Trainer ? "trainer" : "pserver")}-{Index}";
}

/// <summary>
/// Where a replica's log shipping stands: Shipping (more may come), Truncated (the cap was reached: a marker chunk says so
/// and nothing more is shipped while the replica runs), Complete (the replica ended and everything it wrote, up to the
/// cap, is in the object store).
/// </summary>
public enum JobLogState
{
    Shipping,
    Truncated,
    Complete,
}

/// <summary>One line of a job's history: who asked for what, and what Workers saw and did.</summary>
public sealed class JobEvent
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public DateTimeOffset At { get; set; }
    public string State { get; set; } = "";
    public string Message { get; set; } = "";
}

/// <summary>
/// The index of a replica's log in the object store: chunk <see cref="Seq"/> holds bytes
/// [<see cref="Offset"/>, Offset + <see cref="Bytes"/>) of the replica's output, at <see cref="ObjectKey"/>.
/// </summary>
public sealed class JobLogChunk
{
    public Guid JobId { get; set; }
    public ReplicaRole Role { get; set; }
    public int Index { get; set; }
    public int Seq { get; set; }
    public long Offset { get; set; }
    public int Bytes { get; set; }
    public int Lines { get; set; }
    public string ObjectKey { get; set; } = "";
    public DateTimeOffset FirstAt { get; set; }
    public DateTimeOffset LastAt { get; set; }
}

public enum WorkloadKind
{
    Job,
    Deployment,
}

/// <summary>
/// A replica's (or a deployment's) resource use over one minute, sampled every 10 seconds: six slots per array, a
/// missing sample is NaN (reals) or -1 (counters). CPU is in cores, memory in bytes, GPU in percent of one GPU summed
/// over its GPUs; network and disk are byte counters' deltas over the slot.
/// </summary>
public sealed class UsageSample
{
    public WorkloadKind WorkloadKind { get; set; }
    public Guid WorkloadId { get; set; }

    /// <summary>"trainer-0", "pserver-0"; "main" for a deployment.</summary>
    public string Replica { get; set; } = "";

    public DateTimeOffset Minute { get; set; }
    public float[] Cpu { get; set; } = [];
    public long[] Memory { get; set; } = [];
    public float[] Gpu { get; set; } = [];
    public long[] NetRx { get; set; } = [];
    public long[] NetTx { get; set; } = [];
    public long[] DiskRead { get; set; } = [];
    public long[] DiskWrite { get; set; } = [];
}

/// <summary>
/// Resources held by one workload during one hour, as allocated (not as used): the numbers budgets and the usage page
/// add up. Written by the accounting loop for every running job and deployment, and again when one ends.
/// </summary>
public sealed class UsageRecord
{
    public WorkloadKind WorkloadKind { get; set; }
    public Guid WorkloadId { get; set; }
    public DateTimeOffset Hour { get; set; }
    public Guid AccountId { get; set; }
    public Guid UserId { get; set; }
    public double CpuSeconds { get; set; }
    public double GpuSeconds { get; set; }
    public double MemoryMiBSeconds { get; set; }
}

/// <summary>
/// Limits on jobs, for a whole account (<see cref="UserId"/> null: set by admins) or for one member of it (set by the
/// account's masters, never above the account's). A null field is no limit at that level (the platform's defaults,
/// <c>Platform:Jobs:Quotas</c>, apply to accounts without a row).
/// </summary>
public sealed class JobQuota
{
    public long Id { get; set; }
    public Guid AccountId { get; set; }
    public Guid? UserId { get; set; }
    public int? MaxRunningJobs { get; set; }
    public double? MaxCpus { get; set; }
    public int? MaxGpus { get; set; }
    public double? CpuHoursPerDay { get; set; }
    public double? CpuHoursPerWeek { get; set; }
    public double? CpuHoursPerMonth { get; set; }
    public double? GpuHoursPerDay { get; set; }
    public double? GpuHoursPerWeek { get; set; }
    public double? GpuHoursPerMonth { get; set; }

    /// <summary>Fair-share weight of the account (account rows only; null: 1).</summary>
    public double? Weight { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
