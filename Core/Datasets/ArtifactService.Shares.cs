using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

public partial class ArtifactService
{
    public async Task<Result<IReadOnlyList<ShareResponse>>> ListSharesAsync(Guid userId, Guid datasetId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var shares = await db.ArtifactShares.AsNoTracking().Where(s => s.ArtifactId == datasetId).OrderBy(s => s.CreatedAt).ToListAsync(ct);
        var list = new List<ShareResponse>(shares.Count);
        foreach (var share in shares)
        {
            list.Add(await DescribeShareAsync(share, ct));
        }

        return list;
    }

    /// <summary>Shares with a user (by e-mail) or an account; sharing again with the same grantee changes the access.</summary>
    public async Task<Result<ShareResponse>> ShareAsync(Guid userId, Guid datasetId, CreateShareRequest request, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var owner = found.Value!.AccountId;
        if (!Enum.TryParse<ShareAccess>(request.Access ?? "read", ignoreCase: true, out var access) || !Enum.IsDefined(access) || int.TryParse(request.Access, out _))
        {
            return Error.Invalid("access", "Access must be 'read' or 'write'.");
        }

        if (string.IsNullOrWhiteSpace(request.Email) == (request.AccountId is null))
        {
            return Error.Invalid("email", "Give either the e-mail of a user or the id of an account to share with.");
        }

        Guid? granteeUser = null;
        Guid? granteeAccount = null;
        if (request.AccountId is { } accountId)
        {
            if (accountId == owner || !await db.Accounts.AnyAsync(a => a.Id == accountId, ct))
            {
                return Error.Invalid("accountId", accountId == owner ? "The owning account has access already." : "No such account.");
            }

            granteeAccount = accountId;
        }
        else
        {
            var normalized = request.Email!.Trim().ToUpperInvariant();
            granteeUser = await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(ct);
            if (granteeUser is null)
            {
                return Error.Invalid("email", "No user has this e-mail address; invite them to an account first.");
            }

            if (await db.Memberships.AnyAsync(m => m.AccountId == owner && m.UserId == granteeUser, ct))
            {
                return Error.Invalid("email", "This user is a member of the owning account and has access already.");
            }
        }

        var share = await db.ArtifactShares.FirstOrDefaultAsync(
            s => s.ArtifactId == datasetId && s.GranteeUserId == granteeUser && s.GranteeAccountId == granteeAccount, ct);
        if (share is null)
        {
            share = new ArtifactShare
            {
                Id = Guid.CreateVersion7(), ArtifactId = datasetId, GranteeUserId = granteeUser, GranteeAccountId = granteeAccount,
                CreatedByUserId = userId, CreatedAt = clock.GetUtcNow(),
            };
            db.ArtifactShares.Add(share);
        }

        share.Access = access;
        await db.SaveChangesAsync(ct);
        return await DescribeShareAsync(share, ct);
    }

    /// <summary>Revokes a share; the grantee's next request is refused (access is checked on every request).</summary>
    public async Task<Result> RevokeShareAsync(Guid userId, Guid datasetId, Guid shareId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var deleted = await db.ArtifactShares.Where(s => s.Id == shareId && s.ArtifactId == datasetId).ExecuteDeleteAsync(ct);
        return deleted == 0 ? Error.NotFound("Share") : Result.Success;
    }

    private async Task<ShareResponse> DescribeShareAsync(ArtifactShare share, CancellationToken ct)
    {
        var access = share.Access.ToString().ToLowerInvariant();
        if (share.GranteeUserId is { } user)
        {
            var email = await db.Users.Where(u => u.Id == user).Select(u => u.Email).FirstAsync(ct);
            return new ShareResponse(share.Id, "user", user, email ?? "", access, share.CreatedAt);
        }

        var account = share.GranteeAccountId!.Value;
        var name = await db.Accounts.Where(a => a.Id == account).Select(a => a.Name).FirstAsync(ct);
        return new ShareResponse(share.Id, "account", account, name, access, share.CreatedAt);
    }

    /// <summary>Puts the dataset in the public catalog, or takes it out (effective on the next request of anyone reading it).</summary>
    public async Task<Result<DatasetResponse>> SetPublicAsync(Guid userId, Guid datasetId, bool isPublic, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        await db.Artifacts.Where(a => a.Id == datasetId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.IsPublic, isPublic).SetProperty(a => a.UpdatedAt, clock.GetUtcNow()), ct);
        return (await DescribeAsync(datasetId, ct))!;
    }

    /// <summary>The public catalog: every dataset its owners published to it, paged, with search.</summary>
    public Task<PagedResponse<DatasetResponse>> CatalogAsync(int? page, int? pageSize, string? search, CancellationToken ct = default) =>
        PageAsync(db.Artifacts.Where(a => a.IsPublic), page, pageSize, search, ct);

    /// <summary>What the caller may do with the dataset (the same rule every method applies), or null when it is not visible.</summary>
    public async Task<DatasetAccess?> AccessOfAsync(Guid userId, Guid datasetId, CancellationToken ct = default)
    {
        var artifact = await db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == datasetId && a.Kind == kind, ct);
        if (artifact is null)
        {
            return null;
        }

        var (role, shared) = await GrantsAsync(userId, artifact, ct);
        return Level(artifact, role, shared);
    }
}
