namespace Platform.Core.Deployments;

/// <summary>
/// A new deployment. Hardware left out takes the module's default; <see cref="Service"/> is jupyter, vscode or api;
/// <see cref="Template"/> default or minimal; <see cref="Datasets"/> are <c>name@version</c> references.
/// </summary>
public sealed record CreateDeploymentRequest(
    Guid? AccountId,
    string? Module,
    string? Title,
    string? Description,
    string? Service,
    string? ImageTag,
    double? Cpus,
    double? Gpus,
    int? MemoryMiB,
    int? DiskGiB,
    string? Template,
    IReadOnlyList<string>? Datasets,
    string? Password,
    string? Image = null);

/// <summary>
/// A deployment as its owner sees it: never the password nor the workload's token. <see cref="Access"/> says what the
/// caller is to it: "owner", "master" (of its account, looking at a member's) or "shared" (with the caller).
/// </summary>
public sealed record DeploymentResponse(
    Guid Id,
    Guid AccountId,
    Guid OwnerUserId,
    string Module,
    string Title,
    string Description,
    string Service,
    string? ImageTag,
    double Cpus,
    int Gpus,
    int MemoryMiB,
    int DiskGiB,
    string Template,
    IReadOnlyList<string> Datasets,
    string Desired,
    string Observed,
    string? Reason,
    long Generation,
    long ObservedGeneration,
    string Backend,
    string Url,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    string Access = "owner",
    string? Image = null);

public sealed record DeploymentEventResponse(long Id, DateTimeOffset At, string State, string Message);

/// <summary>
/// The "show template": exactly what would be submitted to the backend, secrets left out (the password is only said to
/// be set; the API key is made when the workload starts).
/// </summary>
public sealed record DeploymentSpecResponse(
    string Name,
    string Module,
    string Service,
    string Backend,
    string? ImageTag,
    double Cpus,
    int Gpus,
    int MemoryMiB,
    int DiskGiB,
    string Template,
    IReadOnlyList<string> Datasets,
    string BaseUrl,
    IReadOnlyList<string>? Command,
    IReadOnlyDictionary<string, string> Environment,
    bool PasswordSet,
    string? Image = null);

public sealed record CreateDeploymentShareRequest(string? Email);

/// <summary>A user the deployment is shared with: they may open its IDE and read its page, not change it.</summary>
public sealed record DeploymentShareResponse(Guid UserId, string Email, string DisplayName, DateTimeOffset CreatedAt);
