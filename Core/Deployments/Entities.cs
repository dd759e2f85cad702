using Platform.Core.Catalog;

namespace Platform.Core.Deployments;

/// <summary>What the user wants of a deployment; only users change it (each change bumps <see cref="Deployment.Generation"/>).</summary>
public enum DesiredState
{
    Running,
    Stopped,
    Deleted,
}

/// <summary>What Workers last saw; only the reconciler changes it, compare-and-set against the state it expected.</summary>
public enum ObservedState
{
    Queued,
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
    Deleted,
}

/// <summary>The Jupyter default template, or a minimal workspace with nothing added.</summary>
public enum DeploymentTemplate
{
    Default,
    Minimal,
}

/// <summary>
/// A module deployed for a user: an IDE (Jupyter, VS Code) or the module's API, with a workspace that survives stop
/// and start. The row holds desire and observation side by side (DESIGN.md, control plane); a deleted deployment keeps
/// its row (Observed = Deleted) so its events stay readable to admins, but it is gone for its owner.
/// </summary>
public sealed class Deployment
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public Guid OwnerUserId { get; set; }
    public string Module { get; set; } = "";
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    public ModuleService Service { get; set; }
    public string? ImageTag { get; set; }
    public double Cpus { get; set; }
    public int Gpus { get; set; }
    public int MemoryMiB { get; set; }
    public int DiskGiB { get; set; }
    public DeploymentTemplate Template { get; set; }
    public List<string> Datasets { get; set; } = [];

    /// <summary>The IDE password, encrypted with Data Protection: the backend needs it, nobody reads it back.</summary>
    public string PasswordProtected { get; set; } = "";

    public DesiredState Desired { get; set; }
    public ObservedState Observed { get; set; }

    /// <summary>Why the deployment is in its observed state ("exited: MemoryError"), for people.</summary>
    public string? Reason { get; set; }

    /// <summary>Bumped by every change of desire; the reconciler records the generation it acted on.</summary>
    public long Generation { get; set; }
    public long ObservedGeneration { get; set; }

    public string Backend { get; set; } = "";

    /// <summary>Opaque to all but the backend named in <see cref="Backend"/> (jsonb).</summary>
    public string? BackendState { get; set; }

    /// <summary>Where the workload answers (http://127.0.0.1:port for the process backend); the proxy adds /ide/{id}/.</summary>
    public string? Address { get; set; }

    /// <summary>SHA-256 of the PLATFORM_API_KEY given to the running workload; the token itself is never stored.</summary>
    public byte[]? TokenHash { get; set; }

    /// <summary>
    /// The token Workers use to ask the running IDE about its activity (Jupyter's <c>token</c>), protected with Data
    /// Protection (purpose <c>Platform.Deployments.ServiceToken</c>). Made at each launch and kept when a start adopts
    /// a workload already running, so it always matches the process; cleared with the backend state.
    /// </summary>
    public string? ServiceTokenProtected { get; set; }

    /// <summary>The image the user named ("Run your own image"); null for modules that bring their own.</summary>
    public string? Image { get; set; }

    public DateTimeOffset? NextCheckAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? StoppedAt { get; set; }

    /// <summary>The last use seen: proxied requests (Web) and the IDE's own activity (the idle culler); never moves back.</summary>
    public DateTimeOffset? LastActivityAt { get; set; }

    /// <summary>When the owner was warned that the idle culler will stop it; cleared by activity after the warning.</summary>
    public DateTimeOffset? IdleWarnedAt { get; set; }
}

/// <summary>One line of a deployment's history: who asked for what, and what Workers saw and did.</summary>
public sealed class DeploymentEvent
{
    public long Id { get; set; }
    public Guid DeploymentId { get; set; }
    public DateTimeOffset At { get; set; }
    public string State { get; set; } = "";
    public string Message { get; set; } = "";
}

/// <summary>
/// A named user the owner lets open the deployment's IDE (through the proxy) and read its page, but not change it.
/// Deleting the row revokes it: the proxy and the API check these rows on every request.
/// </summary>
public sealed class DeploymentShare
{
    public Guid DeploymentId { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
