using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Deployments;

/// <summary>Who a presented workload key acts for: the deployment's owner, in the deployment's account.</summary>
public sealed record WorkloadKeyAuthentication(Guid UserId, Guid DeploymentId, Guid AccountId, string Title);

/// <summary>
/// The <c>PLATFORM_API_KEY</c> each launch of a deployment gets: <c>plat_dep_{deployment id, 32 hex}_{40 base62}</c>.
/// An access key is <c>plat_{12 base62}_{40 base62}</c>, whose prefix never holds an underscore, so the two never
/// collide and a key is told apart by its shape alone. Only SHA-256 of the whole key is stored
/// (<see cref="Deployment.TokenHash"/>); the id in it finds the row, the hash is compared in constant time. The key works
/// only while its deployment is wanted running and is starting or running: stopping or deleting it (a change of desire)
/// ends the key at once, before Workers even clear the hash, and the next launch makes a new one.
/// </summary>
public sealed class WorkloadKeys(PlatformDbContext db)
{
    public const string Prefix = "plat_dep_";

    public static string New(Guid deploymentId) => Secrets.NewWorkloadKey(Prefix, deploymentId);

    public static bool IsWorkloadKey(string presented) => presented.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Refusals say why, for the 401 body, but never whether the deployment exists.</summary>
    public async Task<Result<WorkloadKeyAuthentication>> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        if (!Secrets.TryReadWorkloadKey(presented, Prefix, out var deploymentId))
        {
            return Error.Invalid("key", "The workload key is malformed.");
        }

        var d = await db.Deployments.AsNoTracking()
            .Where(x => x.Id == deploymentId && x.TokenHash != null)
            .Select(x => new
            {
                x.OwnerUserId, x.AccountId, x.Title, x.TokenHash, x.Desired, x.Observed,
                Member = db.Memberships.Any(m => m.AccountId == x.AccountId && m.UserId == x.OwnerUserId),
            })
            .FirstOrDefaultAsync(ct);
        if (d is null || !Secrets.HashEquals(presented, d.TokenHash!))
        {
            return Error.Invalid("key", "The workload key is not valid.");
        }

        if (d.Desired != DesiredState.Running || d.Observed is not (ObservedState.Starting or ObservedState.Running) || !d.Member)
        {
            return Error.Invalid("key", "The workload key's deployment is not running.");
        }

        return new WorkloadKeyAuthentication(d.OwnerUserId, deploymentId, d.AccountId, d.Title);
    }
}
