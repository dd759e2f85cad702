namespace Platform.Core.Jobs;

/// <summary>How many replicas of one role, and what each gets. Left out: the platform's defaults (1 CPU, no GPU, 1 GiB).</summary>
public sealed record ReplicaGroupRequest(int? Count, double? Cpus, int? Gpus, int? MemoryMiB);

/// <summary>
/// A new job. <see cref="Type"/> is train or evaluate. What runs: <see cref="Command"/> (argv) on the node, or
/// <see cref="Image"/> (with or without a command) on a container backend, or a catalog <see cref="Module"/>'s training
/// command. <see cref="Code"/> and <see cref="Datasets"/> are <c>name@version</c> references; <see cref="Options"/> are
/// key=value pairs; <see cref="OutputModel"/> names the model whose next version <c>output/</c> becomes on success.
/// </summary>
public sealed record SubmitJobRequest(
    Guid? AccountId = null,
    string? Name = null,
    string? Type = null,
    string? Module = null,
    string? Image = null,
    IReadOnlyList<string>? Command = null,
    IReadOnlyList<string>? Datasets = null,
    string? Code = null,
    string? OutputModel = null,
    IReadOnlyDictionary<string, string>? Options = null,
    ReplicaGroupRequest? Trainers = null,
    ReplicaGroupRequest? ParameterServers = null,
    int? Priority = null,
    int? TimeLimitMinutes = null);

/// <summary>Edits to a job being cloned: every field left out keeps the original's.</summary>
public sealed record CloneJobRequest(
    string? Name = null,
    IReadOnlyList<string>? Command = null,
    IReadOnlyList<string>? Datasets = null,
    IReadOnlyDictionary<string, string>? Options = null,
    ReplicaGroupRequest? Trainers = null,
    ReplicaGroupRequest? ParameterServers = null,
    int? Priority = null,
    int? TimeLimitMinutes = null);

public sealed record JobReplicaResponse(
    string Role,
    int Index,
    string Label,
    double Cpus,
    int Gpus,
    int MemoryMiB,
    string? Node,
    int? Port,
    string State,
    int? ExitCode,
    string? Reason,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>
/// A job as its owner (or a master of its account: <see cref="Access"/> "master") sees it. <see cref="State"/> is the
/// observed state in lower case (queued, starting, running, stopping, succeeded, failed, stopped); while queued,
/// <see cref="QueueReason"/>, <see cref="QueuePosition"/> and <see cref="EstimatedStartAt"/> say why and until when.
/// <see cref="Replicas"/> is filled for a single job, not in lists.
/// </summary>
public sealed record JobResponse(
    Guid Id,
    Guid AccountId,
    Guid OwnerUserId,
    string Name,
    string Type,
    string? Module,
    string? Image,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Options,
    IReadOnlyList<string> Datasets,
    string? Code,
    string? OutputModel,
    int? OutputModelVersion,
    int Priority,
    int? TimeLimitMinutes,
    string Desired,
    string State,
    string? Reason,
    string? QueueReason,
    int? QueuePosition,
    DateTimeOffset? EstimatedStartAt,
    string Backend,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? Progress,
    string? ProgressMessage,
    Guid? CloneOf,
    int Trainers,
    int ParameterServers,
    double Cpus,
    int Gpus,
    int MemoryMiB,
    string Access,
    IReadOnlyList<JobReplicaResponse>? Replicas = null);

public sealed record JobEventResponse(long Id, DateTimeOffset At, string State, string Message);

/// <summary>
/// What the scheduler would decide for a job if it were submitted now: start at once, or wait (with the reason, the
/// position it would take and an estimated start), or never (it asks for more than any node has, or beyond a limit
/// that cannot change by waiting).
/// </summary>
public sealed record JobPreviewResponse(bool WouldStartNow, bool Never, string Message, string? Reason, int? Position, DateTimeOffset? EstimatedStartAt);
