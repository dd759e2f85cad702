using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Persistence;

namespace Platform.Core.Metrics;

/// <summary>
/// Who may see a run: its owner and the masters of its account, as for jobs. Everybody else is told "not found"
/// (the REST API and the live hub alike), never "forbidden", so a run's existence does not leak.
/// </summary>
public static class RunAccess
{
    /// <summary>The runs <paramref name="userId"/> may see.</summary>
    public static IQueryable<Run> Visible(PlatformDbContext db, Guid userId) =>
        db.Runs.Where(r => r.OwnerUserId == userId
            || db.Memberships.Any(m => m.AccountId == r.AccountId && m.UserId == userId && m.Role == AccountRole.Master));

    public static Task<bool> MaySeeAsync(PlatformDbContext db, Guid userId, Guid runId, CancellationToken ct = default) =>
        Visible(db, userId).AnyAsync(r => r.Id == runId, ct);
}
