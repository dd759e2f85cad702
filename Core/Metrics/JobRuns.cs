using Microsoft.EntityFrameworkCore;
using Platform.Core.Persistence;

namespace Platform.Core.Metrics;

/// <summary>A job's run ends with its job: what the jobs reconciler calls when it moves a job to a final state.</summary>
public static class JobRuns
{
    /// <summary>
    /// Marks the job's open run Finished at <paramref name="at"/> and <c>NOTIFY runs, '&lt;id&gt;'</c> for it (open
    /// boards and runs lists hear RunUpdated), in one statement, inside the caller's transaction when there is one, so
    /// the run ends with the job's move or not at all. Points posted later re-open it, as after the SDK's finish().
    /// Returns how many runs it finished (0 or 1: a job has at most one run).
    /// </summary>
    public static async Task<int> FinishAsync(PlatformDbContext db, Guid jobId, DateTimeOffset at, CancellationToken ct = default)
    {
        var finished = await db.Database.SqlQuery<int>($"""
            WITH finished AS (
                UPDATE "Runs" SET "State" = 'Finished', "FinishedAt" = {at}, "UpdatedAt" = {at}
                WHERE "JobId" = {jobId} AND "State" = 'Open'
                RETURNING "Id")
            SELECT count(pg_notify({RunService.Channel}, "Id"::text))::int AS "Value" FROM finished
            """).ToListAsync(ct);
        return finished.Single();
    }
}
