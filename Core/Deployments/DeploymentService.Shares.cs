using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Deployments;

/// <summary>
/// Sharing a deployment with named users, by e-mail: they may open its IDE through the proxy and read its page and
/// events, nothing more. Only the owner manages shares; a sharee or master gets forbidden, anyone else not found.
/// Access is checked against the rows on every request, so an unshare takes effect at the sharee's next request.
/// </summary>
public sealed partial class DeploymentService
{
    public async Task<Result<IReadOnlyList<DeploymentShareResponse>>> ListSharesAsync(Guid userId, Guid deploymentId, CancellationToken ct = default)
    {
        var owned = await RequireOwnerAsync(userId, deploymentId, ct);
        if (!owned.IsSuccess)
        {
            return owned.Error!;
        }

        return await (
            from s in db.DeploymentShares
            where s.DeploymentId == deploymentId
            join u in db.Users on s.UserId equals u.Id
            orderby s.CreatedAt, u.Email
            select new DeploymentShareResponse(u.Id, u.Email!, u.DisplayName, s.CreatedAt)).ToListAsync(ct);
    }

    /// <summary>Shares with the user holding <see cref="CreateDeploymentShareRequest.Email"/>; sharing again changes nothing.</summary>
    public async Task<Result<DeploymentShareResponse>> ShareAsync(
        Guid userId, Guid deploymentId, CreateDeploymentShareRequest request, CancellationToken ct = default)
    {
        var owned = await RequireOwnerAsync(userId, deploymentId, ct);
        if (!owned.IsSuccess)
        {
            return owned.Error!;
        }

        var normalized = request.Email?.Trim().ToUpperInvariant() ?? "";
        var user = normalized.Length == 0 ? null
            : await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == normalized).Select(u => new { u.Id, u.Email, u.DisplayName }).FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return Error.Invalid("email", normalized.Length == 0 ? "Give the e-mail address of the user to share with." : "No user has this e-mail address.");
        }

        if (user.Id == userId)
        {
            return Error.Invalid("email", "The deployment is yours already.");
        }

        var share = await db.DeploymentShares.AsNoTracking().FirstOrDefaultAsync(s => s.DeploymentId == deploymentId && s.UserId == user.Id, ct);
        if (share is null)
        {
            share = new DeploymentShare { DeploymentId = deploymentId, UserId = user.Id, CreatedAt = clock.GetUtcNow() };
            db.DeploymentShares.Add(share);
            db.DeploymentEvents.Add(NewEvent(deploymentId, owned.Value!.Observed.ToString(), $"Shared with {user.Email} by {await NameOfAsync(userId, ct)}"));
            await db.SaveChangesAsync(ct);
        }

        return new DeploymentShareResponse(user.Id, user.Email ?? "", user.DisplayName, share.CreatedAt);
    }

    public async Task<Result> UnshareAsync(Guid userId, Guid deploymentId, Guid shareUserId, CancellationToken ct = default)
    {
        var owned = await RequireOwnerAsync(userId, deploymentId, ct);
        if (!owned.IsSuccess)
        {
            return owned.Error!;
        }

        var deleted = await db.DeploymentShares.Where(s => s.DeploymentId == deploymentId && s.UserId == shareUserId).ExecuteDeleteAsync(ct);
        if (deleted == 0)
        {
            return Error.NotFound("Share");
        }

        var email = await db.Users.Where(u => u.Id == shareUserId).Select(u => u.Email).FirstOrDefaultAsync(ct);
        db.DeploymentEvents.Add(NewEvent(deploymentId, owned.Value!.Observed.ToString(), $"No longer shared with {email} ({await NameOfAsync(userId, ct)})"));
        await db.SaveChangesAsync(ct);
        return Result.Success;
    }

    private async Task<Result<Deployment>> RequireOwnerAsync(Guid userId, Guid deploymentId, CancellationToken ct) =>
        await FindAsync(userId, deploymentId, ct) switch
        {
            null => NotFound(),
            { Owner: false } => Error.Forbidden("Only the deployment's owner can share it."),
            var found => found.D,
        };
}
