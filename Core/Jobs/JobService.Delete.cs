using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Storage;

namespace Platform.Core.Jobs;

public sealed partial class JobService
{
    /// <summary>
    /// Deletes a finished job (its owner or a master of its account): the row with its replicas, events and log index,
    /// its run with every metric point and rollup (the series trigger), then its shipped logs in the object store. A job
    /// that has not ended is refused (stop it first), so no reconciler is still working on it. The hours it used stay in
    /// the usage records (shown as "(deleted)"); its working folder on the node goes with the retention sweep's orphans.
    /// </summary>
    public async Task<Result> DeleteAsync(Guid userId, Guid jobId, IObjectStore store, CancellationToken ct = default)
    {
        if (await FindAsync(userId, jobId, ct) is not { } found)
        {
            return NotFound();
        }

        if (!IsFinished(found.Job.Observed))
        {
            return Error.Conflict($"The job is {found.Job.Observed.ToString().ToLowerInvariant()}: stop it and wait for it to end before deleting it.");
        }

        var logs = await db.JobLogChunks.Where(c => c.JobId == jobId).Select(c => c.ObjectKey).Distinct().ToListAsync(ct);
        var deleted = await db.Jobs
            .Where(j => j.Id == jobId && Finished.Contains(j.Observed))
            .ExecuteDeleteAsync(ct);
        if (deleted == 0)
        {
            return NotFound();
        }

        await NotifyAsync(jobId, ct);
        if (logs.Count > 0)
        {
            await store.DeleteManyAsync(logs, ct);
        }

        return Result.Success;
    }
}
