using Platform.Core.Catalog;

namespace Platform.Core.Deployments.Backends;

/// <summary>
/// Everything a backend needs to run one deployment, built in one place (<see cref="WorkloadSpecs"/>) so every backend
/// injects the same environment. Holds the password and the API key: it never leaves Workers.
/// </summary>
public sealed record WorkloadSpec(
    Guid DeploymentId,
    string Module,
    ModuleService Service,
    ResourceRequest Resources,
    DeploymentTemplate Template,
    IReadOnlyList<string> Datasets,
    IReadOnlyList<string>? ApiCommand,
    string Password,
    IReadOnlyDictionary<string, string> Environment,
    string ServiceToken,
    IReadOnlyList<WorkloadMount> Mounts)
{
    /// <summary>The container image for the requested hardware and tag (container backends); null when the module names none.</summary>
    public string? Image { get; init; }

    /// <summary>The image is the user's own ("Run your own image"): it runs under its own entrypoint and command.</summary>
    public bool OwnImage { get; init; }

    /// <summary>Who the workload belongs to, for the labels container backends put on it.</summary>
    public Guid OwnerUserId { get; init; }

    public Guid AccountId { get; init; }

    /// <summary>The deterministic name backends find the workload by.</summary>
    public string Name => NameFor(DeploymentId);

    /// <summary>The path the workload serves under, as the front door forwards it.</summary>
    public string BaseUrl => BaseUrlFor(DeploymentId);

    public static string NameFor(Guid deploymentId) => $"platform-{deploymentId:N}";

    public static string BaseUrlFor(Guid deploymentId) => $"/ide/{deploymentId}/";

    /// <summary>The path the reconciler probes for readiness: Jupyter's /api answers 200 without signing in.</summary>
    public string ReadinessPath => Service == ModuleService.Jupyter ? BaseUrl + "api" : Service == ModuleService.VsCode ? "/healthz" : BaseUrl;
}

/// <summary>A host folder a workload sees read-only at <c>datasets/{Name}</c> inside its workspace.</summary>
/// <param name="Name">The folder name inside <c>datasets/</c> (a dataset's name).</param>
/// <param name="Reference">What the user asked for (<c>name@version</c>).</param>
/// <param name="HostPath">The folder on the host (or node) holding the files.</param>
public sealed record WorkloadMount(string Name, string Reference, string HostPath);
