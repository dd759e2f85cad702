using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments.Backends;
using Platform.Core.Limits;
using Platform.Core.Persistence;

namespace Platform.Core.Deployments;

/// <summary>
/// Deployments as their owners see them: create (desire running), stop, start, delete (each a change of desire with
/// <see cref="Deployment.Generation"/> + 1, an event naming who asked, and <c>NOTIFY deployments</c> so Workers act at
/// once). Only Workers change what is observed. A deployment is its owner's; users it is shared with may read it (and
/// open its IDE through the proxy), masters of its account may read and stop it; both get forbidden for anything else.
/// Anyone else, in the account or not, gets not found, and so does everyone once it is deleted. Wanting one running
/// (create, start) must fit the owner's limits (<see cref="LimitService"/>), checked in the same transaction that
/// records the desire.
/// </summary>
public sealed partial class DeploymentService(
    PlatformDbContext db, AccountService accounts, IModuleCatalog catalog, WorkloadSpecs specs, LimitService limits, TimeProvider clock, DatasetMounts mounts)
{
    public const string Channel = "deployments";
    public const int TitleMaxLength = 100;
    public const int DescriptionMaxLength = 4000;
    public const int PasswordMinLength = 9;
    public const int PasswordMaxLength = 200;
    public const int MaxDatasets = 20;

    public async Task<Result<DeploymentResponse>> CreateAsync(Guid userId, CreateDeploymentRequest request, CancellationToken ct = default)
    {
        var validated = await ValidateAsync(userId, request, ct);
        if (!validated.IsSuccess)
        {
            return validated.Error!;
        }

        var deployment = validated.Value!;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await limits.CheckAsync(userId, deployment.AccountId, deployment.Cpus, deployment.Gpus, null, fields: true, ct) is { } refused)
        {
            return refused;
        }

        deployment.PasswordProtected = specs.Protect(request.Password ?? "");
        db.Deployments.Add(deployment);
        db.DeploymentEvents.Add(NewEvent(deployment.Id, "Queued", $"Created by {await NameOfAsync(userId, ct)}: {deployment.Service} of '{deployment.Module}'"));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        await NotifyAsync(deployment.Id, ct);
        return ToResponse(deployment);
    }

    /// <summary>The spec that creating with this request would submit to the backend, secrets left out; nothing is stored.</summary>
    public async Task<Result<DeploymentSpecResponse>> SpecAsync(Guid userId, CreateDeploymentRequest request, CancellationToken ct = default)
    {
        var validated = await ValidateAsync(userId, request, ct);
        if (!validated.IsSuccess)
        {
            return validated.Error!;
        }

        var d = validated.Value!;
        var spec = specs.Build(d, request.Password ?? "", "(made when the deployment starts)", "(made when the deployment starts)");
        return new DeploymentSpecResponse(spec.Name, d.Module, Wire(d.Service), d.Backend, d.ImageTag, d.Cpus, d.Gpus, d.MemoryMiB, d.DiskGiB,
            Wire(d.Template), d.Datasets, spec.BaseUrl, spec.Service == ModuleService.Api ? spec.ApiCommand : null, spec.Environment,
            PasswordSet: !string.IsNullOrEmpty(request.Password), Image: spec.Image);
    }

    /// <summary>
    /// Deployments the caller may see, newest first; deleted ones are gone. <paramref name="scope"/>: none for their own and
    /// those shared with them, <c>mine</c>, <c>shared</c> (with me), or <c>account</c> (every deployment in the accounts
    /// they are master of, members' included).
    /// </summary>
    public async Task<Result<PagedResponse<DeploymentResponse>>> ListAsync(
        Guid userId, string? scope, int? page, int? pageSize, CancellationToken ct = default)
    {
        var rows = WithAccess(userId);
        switch (scope?.Trim().ToLowerInvariant())
        {
            case null or "": rows = rows.Where(r => r.Owner || r.Shared); break;
            case "mine": rows = rows.Where(r => r.Owner); break;
            case "shared": rows = rows.Where(r => r.Shared && !r.Owner); break;
            case "account": rows = rows.Where(r => r.Master); break;
            default: return Error.Invalid("scope", "The scope is 'mine', 'shared' or 'account', or none for yours and those shared with you.");
        }

        var (p, size) = Paging.Normalize(page, pageSize);
        var total = await rows.CountAsync(ct);
        var found = await rows.OrderByDescending(r => r.D.CreatedAt).ThenBy(r => r.D.Id).Skip((p - 1) * size).Take(size).AsNoTracking().ToListAsync(ct);
        return new PagedResponse<DeploymentResponse>(found.Select(r => ToResponse(r.D, r.Level)).ToList(), total, p, size);
    }

    public async Task<Result<DeploymentResponse>> GetAsync(Guid userId, Guid deploymentId, CancellationToken ct = default) =>
        await FindAsync(userId, deploymentId, ct) is { } r ? ToResponse(r.D, r.Level) : NotFound();

    public async Task<Result<PagedResponse<DeploymentEventResponse>>> EventsAsync(
        Guid userId, Guid deploymentId, int? page, int? pageSize, CancellationToken ct = default)
    {
        if (await FindAsync(userId, deploymentId, ct) is null)
        {
            return NotFound();
        }

        var (p, size) = Paging.Normalize(page, pageSize);
        var query = db.DeploymentEvents.Where(e => e.DeploymentId == deploymentId);
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(e => e.Id).Skip((p - 1) * size).Take(size)
            .Select(e => new DeploymentEventResponse(e.Id, e.At, e.State, e.Message)).ToListAsync(ct);
        return new PagedResponse<DeploymentEventResponse>(items, total, p, size);
    }

    public Task<Result<DeploymentResponse>> StopAsync(Guid userId, Guid deploymentId, CancellationToken ct = default) =>
        ChangeDesireAsync(userId, deploymentId, DesiredState.Stopped, ct);

    /// <summary>Starts a stopped deployment, or runs a failed one again (the only way a failure is retried).</summary>
    public Task<Result<DeploymentResponse>> StartAsync(Guid userId, Guid deploymentId, CancellationToken ct = default) =>
        ChangeDesireAsync(userId, deploymentId, DesiredState.Running, ct);

    /// <summary>Asks for the deployment and its workspace to be removed; Workers do it, then it is gone for everyone.</summary>
    public async Task<Result> DeleteAsync(Guid userId, Guid deploymentId, CancellationToken ct = default)
    {
        var changed = await ChangeDesireAsync(userId, deploymentId, DesiredState.Deleted, ct);
        return changed.IsSuccess ? Result.Success : changed.Error!;
    }

    private async Task<Result<DeploymentResponse>> ChangeDesireAsync(Guid userId, Guid deploymentId, DesiredState desired, CancellationToken ct)
    {
        var found = await FindAsync(userId, deploymentId, ct);
        if (found is null)
        {
            return NotFound();
        }

        // Masters of the account may stop members' deployments (to free what they hold); nothing else but the owner's own.
        if (!found.Owner && !(found.Master && desired == DesiredState.Stopped))
        {
            return Error.Forbidden(found.Master
                ? "Masters of the account may stop a member's deployment; only its owner can start or delete it."
                : "The deployment is shared with you to open; only its owner can change it.");
        }

        var current = found.D;

        if (current.Desired == DesiredState.Deleted)
        {
            return Error.Conflict("The deployment is being deleted.");
        }

        // Asking again for what is already wanted changes nothing, except starting a failed deployment: that is the retry.
        var retry = desired == DesiredState.Running && current.Observed == ObservedState.Failed;
        if (current.Desired == desired && !retry)
        {
            return ToResponse(current, found.Level);
        }

        await using var tx = desired == DesiredState.Running ? await db.Database.BeginTransactionAsync(ct) : null;
        if (tx is not null && await limits.CheckAsync(current.OwnerUserId, current.AccountId, current.Cpus, current.Gpus, current.Id, fields: false, ct) is { } refused)
        {
            return refused;
        }

        var now = clock.GetUtcNow();
        var updated = await db.Deployments
            .Where(d => d.Id == deploymentId && d.Generation == current.Generation && d.Desired == current.Desired)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Desired, desired)
                .SetProperty(d => d.Generation, d => d.Generation + 1)
                .SetProperty(d => d.UpdatedAt, now), ct);
        if (updated == 0)
        {
            return Error.Conflict("The deployment changed meanwhile; reload and try again.");
        }

        var verb = desired switch
        {
            DesiredState.Running => retry ? "Restart" : "Start",
            DesiredState.Stopped => "Stop",
            _ => "Delete",
        };
        db.DeploymentEvents.Add(NewEvent(deploymentId, current.Observed.ToString(), $"{verb} requested by {await NameOfAsync(userId, ct)}"));
        await db.SaveChangesAsync(ct);
        if (tx is not null)
        {
            await tx.CommitAsync(ct);
        }

        await NotifyAsync(deploymentId, ct);
        return ToResponse(await db.Deployments.AsNoTracking().SingleAsync(d => d.Id == deploymentId, ct), found.Level);
    }

    /// <summary>
    /// The platform stops a deployment for its owner (idle culling): the change of desire <see cref="StopAsync"/> makes,
    /// compare-and-set against the generation that was judged, so whatever the owner asked since wins. False when it lost.
    /// </summary>
    public async Task<bool> StopForPlatformAsync(Guid deploymentId, long generation, string message, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var updated = await db.Deployments
            .Where(d => d.Id == deploymentId && d.Generation == generation && d.Desired == DesiredState.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Desired, DesiredState.Stopped)
                .SetProperty(d => d.Generation, d => d.Generation + 1)
                .SetProperty(d => d.IdleWarnedAt, (DateTimeOffset?)null)
                .SetProperty(d => d.UpdatedAt, now), ct);
        if (updated == 0)
        {
            return false;
        }

        var observed = await db.Deployments.Where(d => d.Id == deploymentId).Select(d => d.Observed).FirstAsync(ct);
        db.DeploymentEvents.Add(NewEvent(deploymentId, observed.ToString(), message));
        await db.SaveChangesAsync(ct);
        await NotifyAsync(deploymentId, ct);
        return true;
    }

    /// <summary>
    /// Every deployment not yet deleted with what the caller is to it: its owner (while still in its account), a master of
    /// its account, or a user it is shared with. A row where all three are false is invisible to the caller.
    /// </summary>
    private IQueryable<Access> WithAccess(Guid userId) =>
        from d in db.Deployments
        where d.Observed != ObservedState.Deleted
        select new Access
        {
            D = d,
            Owner = d.OwnerUserId == userId && db.Memberships.Any(m => m.AccountId == d.AccountId && m.UserId == userId),
            Master = db.Memberships.Any(m => m.AccountId == d.AccountId && m.UserId == userId && m.Role == AccountRole.Master),
            Shared = db.DeploymentShares.Any(x => x.DeploymentId == d.Id && x.UserId == userId),
        };

    private async Task<Access?> FindAsync(Guid userId, Guid deploymentId, CancellationToken ct) =>
        await WithAccess(userId).AsNoTracking().Where(r => r.D.Id == deploymentId && (r.Owner || r.Master || r.Shared)).FirstOrDefaultAsync(ct);

    private sealed class Access
    {
        public required Deployment D { get; init; }
        public bool Owner { get; init; }
        public bool Master { get; init; }
        public bool Shared { get; init; }

        /// <summary>On the wire: "owner", "master" (a master of the account looking at a member's) or "shared" (with me).</summary>
        public string Level => Owner ? "owner" : Master ? "master" : "shared";
    }

    private async Task NotifyAsync(Guid deploymentId, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({Channel}, {deploymentId.ToString()})", ct);

    private async Task<string> NameOfAsync(Guid userId, CancellationToken ct) =>
        await db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName != "" ? u.DisplayName : u.Email).FirstOrDefaultAsync(ct) ?? "a user";

    internal DeploymentEvent NewEvent(Guid deploymentId, string state, string message) =>
        new() { DeploymentId = deploymentId, At = clock.GetUtcNow(), State = state, Message = message };

    private static Error NotFound() => Error.NotFound("Deployment");

    /// <summary>Enum values on the wire: lower case ("jupyter", "vscode", "running").</summary>
    public static string Wire<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static DeploymentResponse ToResponse(Deployment d) => ToResponse(d, "owner");

    public static DeploymentResponse ToResponse(Deployment d, string access) => new(
        d.Id, d.AccountId, d.OwnerUserId, d.Module, d.Title, d.Description, Wire(d.Service), d.ImageTag, d.Cpus, d.Gpus, d.MemoryMiB, d.DiskGiB,
        Wire(d.Template), d.Datasets, Wire(d.Desired), Wire(d.Observed), d.Reason, d.Generation, d.ObservedGeneration, d.Backend,
        WorkloadSpec.BaseUrlFor(d.Id), d.CreatedAt, d.UpdatedAt, d.StartedAt, d.StoppedAt, access, d.Image);
}
