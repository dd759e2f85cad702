using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Jobs.Backends;

/// <summary>
/// Runs job replicas: commands that run to an end, each a process or container found again by its deterministic name
/// (<see cref="BatchSpec.Name"/>) and the opaque state the backend returns. Stateless like <see cref="IComputeBackend"/>:
/// the reconciler stores the state in <see cref="JobReplica.BackendState"/> and hands it back.
/// </summary>
public interface IBatchBackend
{
    /// <summary>The name stored in <see cref="Job.Backend"/> ("process", "docker").</summary>
    string Name { get; }

    /// <summary>The nodes jobs may be placed on, with what each offers.</summary>
    Task<IReadOnlyList<NodeCapacity>> NodesAsync(CancellationToken ct);

    /// <summary>
    /// Launches the replica and returns at once. Idempotent: a replica already running (or already ended) under the
    /// spec's name is adopted, never started twice. Expected failures (no such command) throw <see cref="WorkloadException"/>.
    /// </summary>
    Task<BatchStart> StartAsync(BatchSpec spec, string? state, CancellationToken ct);

    /// <summary>Running, exited (with its exit code), or not found; never throws for a missing one.</summary>
    Task<BackendStatus> PollAsync(Guid jobId, string replica, string? state, CancellationToken ct);

    /// <summary>Stops the replica (TERM, then KILL after a grace); one already ended is success.</summary>
    Task StopAsync(Guid jobId, string replica, string? state, CancellationToken ct);

    /// <summary>The replica's output (stdout and stderr together) from byte <paramref name="offset"/>, at most <paramref name="max"/> bytes.</summary>
    Task<byte[]> ReadLogAsync(Guid jobId, string replica, string? state, long offset, int max, CancellationToken ct);

    /// <summary>
    /// How long after a replica's exit its last output may still be on its way into the log this backend reads (zero
    /// where the replica writes the log itself); a failure that left no output yet is given that long to show it.
    /// </summary>
    TimeSpan LogLag { get; }

    /// <summary>The last lines the replica wrote, to say why it failed ("" when there are none).</summary>
    Task<string> LogTailAsync(Guid jobId, string replica, string? state, int lines, CancellationToken ct);

    /// <summary>The job's working folder on the host (process backend) or volume, for outputs; null when not reachable from here.</summary>
    string? OutputFolderOf(Guid jobId);

    /// <summary>The jobs whose working folders (and, on container backends, containers) this backend still keeps.</summary>
    IReadOnlyList<Guid> JobsKept();

    /// <summary>When the job's folder last changed (its last write time; MinValue when it has none).</summary>
    DateTimeOffset LastChangeOf(Guid jobId);

    /// <summary>Removes what the job left on the nodes (working folder, containers, logs already shipped); all gone is success.</summary>
    Task CleanupAsync(Guid jobId, CancellationToken ct);
}

/// <param name="State">What the backend needs to find the replica again.</param>
/// <param name="Launched">True when this call started it; false when it adopted one already there.</param>
public sealed record BatchStart(string State, bool Launched);

/// <summary>
/// One replica to run. The job's working folder (shared by the replicas on one node) holds <c>datasets/{name}</c>
/// (read-only), <c>output/</c> and the job's code; the command runs there with <see cref="Environment"/> only.
/// </summary>
/// <param name="Replica">The replica's label ("trainer-0", "pserver-1").</param>
/// <param name="Image">A container image (container backends); null runs the command on the node.</param>
/// <param name="Command">argv; empty with an image runs the image's own command.</param>
/// <param name="Port">The port the replica may listen on (its peers were told it).</param>
/// <param name="CodeFolder">A host folder whose files are copied into the working folder before the first replica starts.</param>
public sealed record BatchSpec(
    Guid JobId,
    string Replica,
    string? Image,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Environment,
    double Cpus,
    int Gpus,
    int MemoryMiB,
    int Port,
    IReadOnlyList<WorkloadMount> Mounts,
    string? CodeFolder,
    Guid OwnerUserId,
    Guid AccountId)
{
    public string Name => NameFor(JobId, Replica);

    public static string NameFor(Guid jobId, string replica) => $"platform-job-{jobId:N}-{replica}";
}
