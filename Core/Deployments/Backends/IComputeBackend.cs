namespace Platform.Core.Deployments.Backends;

/// <summary>
/// Runs workloads somewhere (the JupyterHub Spawner contract in C#). Implementations are stateless: what they need to
/// find a workload again is the opaque <c>state</c> they return, which the reconciler stores in
/// <see cref="Deployment.BackendState"/> and hands back on every call.
/// </summary>
public interface IComputeBackend
{
    /// <summary>The name stored in <see cref="Deployment.Backend"/> ("process").</summary>
    string Name { get; }

    /// <summary>
    /// Places the workload and returns once its address is known, not once it is ready (the reconciler probes
    /// readiness under its own timeout). Idempotent: a workload already running under the spec's name is adopted,
    /// never started twice. Expected failures (a tool not installed) throw <see cref="WorkloadException"/>.
    /// </summary>
    Task<BackendStart> StartAsync(WorkloadSpec spec, string? state, IProgress<string> progress, CancellationToken ct);

    /// <summary>Whether the workload still runs; never throws for a missing one.</summary>
    Task<BackendStatus> PollAsync(Guid deploymentId, string? state, CancellationToken ct);

    /// <summary>Stops the workload and keeps its workspace; a workload already gone is success.</summary>
    Task StopAsync(Guid deploymentId, string? state, CancellationToken ct);

    /// <summary>Stops the workload and removes its workspace; both already gone is success.</summary>
    Task DeleteAsync(Guid deploymentId, string? state, CancellationToken ct);

    /// <summary>The last lines the workload wrote, to say why it failed ("" when there are none).</summary>
    Task<string> LogTailAsync(Guid deploymentId, CancellationToken ct);
}

/// <param name="State">What the backend needs to find the workload again.</param>
/// <param name="Address">Where it listens (scheme, host and port; no path).</param>
/// <param name="Launched">True when this call started it; false when it adopted one already running.</param>
public sealed record BackendStart(string State, string Address, bool Launched);

public enum WorkloadStatus
{
    Running,
    Exited,
    NotFound,
}

public sealed record BackendStatus(WorkloadStatus Status, int? ExitCode = null, string? Reason = null)
{
    public static BackendStatus Running { get; } = new(WorkloadStatus.Running);
}

/// <summary>An expected reason a workload cannot start ("code-server is not installed on this machine"), said to the user.</summary>
public sealed class WorkloadException(string message) : Exception(message);
