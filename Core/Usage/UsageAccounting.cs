using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Core.Usage;

/// <summary>
/// Turns the runs of jobs and deployments into hourly <see cref="UsageRecord"/>s: allocated CPUs, GPUs and MiB times the
/// seconds of each UTC hour they were held.
/// <para>
/// Guarantee: a pass never increments anything. It (1) records every run it sees as a <see cref="UsageInterval"/>
/// (insert-if-absent), (2) closes the runs that ended, and (3) for each workload it touched recomputes the totals of
/// the hours concerned from all of that workload's intervals and overwrites them (upsert). Steps 2 and 3 for one
/// workload share a transaction, so a crash at any moment leaves either the previous pass's numbers or the new ones,
/// and the next pass (or a repeated one) writes the same figures: nothing is lost or counted twice.
/// </para>
/// <para>
/// A job holds its replicas' resources while Observed is Starting, Running or Stopping: from its admission (the
/// scheduler's "Admitted" event; <see cref="Job.StartedAt"/> when there is none) to <see cref="Job.FinishedAt"/>.
/// A deployment holds its resources while Running or Stopping, from <see cref="Deployment.StartedAt"/> to
/// <see cref="Deployment.StoppedAt"/> (a failed one: to the moment it was marked failed, its UpdatedAt); each start
/// is a run of its own. Only hours from the last one recorded for a workload onward are recomputed (earlier hours
/// were final when a later hour was first written), so a pass costs a few rows per running workload.
/// </para>
/// </summary>
public sealed class UsageAccounting(PlatformDbContext db, TimeProvider clock)
{
    private static readonly JobObserved[] HoldingJob = [JobObserved.Starting, JobObserved.Running, JobObserved.Stopping];
    private static readonly ObservedState[] HoldingDeployment = [ObservedState.Running, ObservedState.Stopping];

    /// <summary>One pass over every running workload and every run not closed yet; returns the workloads whose hours were written.</summary>
    public async Task<int> AccountAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var running = await RunningAsync(ct);
        foreach (var interval in running)
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO "UsageIntervals" ("WorkloadKind", "WorkloadId", "StartedAt", "EndedAt", "AccountId", "UserId", "Cpus", "Gpus", "MemoryMiB")
                VALUES ({interval.WorkloadKind.ToString()}, {interval.WorkloadId}, {interval.StartedAt}, NULL, {interval.AccountId}, {interval.UserId},
                        {interval.Cpus}, {interval.Gpus}, {interval.MemoryMiB})
                ON CONFLICT ("WorkloadKind", "WorkloadId", "StartedAt") DO NOTHING
                """, ct);
        }

        var open = await db.UsageIntervals.AsNoTracking().Where(i => i.EndedAt == null).ToListAsync(ct);
        // A job has one run: an open interval of a running job under another start (seen before its admission event
        // was) is the same run, and would count twice.
        var runningJobs = running.Where(i => i.WorkloadKind == WorkloadKind.Job).ToDictionary(i => i.WorkloadId, i => i.StartedAt);
        foreach (var stale in open.Where(i => i.WorkloadKind == WorkloadKind.Job && runningJobs.TryGetValue(i.WorkloadId, out var s) && s != i.StartedAt).ToList())
        {
            await db.UsageIntervals.Where(x => x.WorkloadKind == WorkloadKind.Job && x.WorkloadId == stale.WorkloadId && x.StartedAt == stale.StartedAt)
                .ExecuteDeleteAsync(ct);
            open.Remove(stale);
        }

        var runningKeys = running.Select(i => (i.WorkloadKind, i.WorkloadId, i.StartedAt)).ToHashSet();
        var ends = await EndsAsync(open.Where(i => !runningKeys.Contains((i.WorkloadKind, i.WorkloadId, i.StartedAt))).ToList(), now, ct);

        var written = 0;
        foreach (var workload in open.GroupBy(i => (i.WorkloadKind, i.WorkloadId)))
        {
            await RecomputeAsync(workload.Key.WorkloadKind, workload.Key.WorkloadId, workload.ToList(), ends, now, ct);
            written++;
        }

        return written;
    }

    /// <summary>The runs holding resources now, as intervals still open.</summary>
    private async Task<List<UsageInterval>> RunningAsync(CancellationToken ct)
    {
        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => HoldingJob.Contains(j.Observed))
            .Select(j => new
            {
                j.Id, j.AccountId, j.OwnerUserId, j.StartedAt,
                AdmittedAt = db.JobEvents.Where(e => e.JobId == j.Id && e.Message.StartsWith("Admitted")).Min(e => (DateTimeOffset?)e.At),
                Cpus = db.JobReplicas.Where(r => r.JobId == j.Id).Sum(r => (double?)r.Cpus) ?? 0,
                Gpus = db.JobReplicas.Where(r => r.JobId == j.Id).Sum(r => (int?)r.Gpus) ?? 0,
                Memory = db.JobReplicas.Where(r => r.JobId == j.Id).Sum(r => (long?)r.MemoryMiB) ?? 0,
            })
            .ToListAsync(ct);
        var deployments = await db.Deployments.AsNoTracking()
            .Where(d => HoldingDeployment.Contains(d.Observed) && d.StartedAt != null)
            .Select(d => new { d.Id, d.AccountId, d.OwnerUserId, StartedAt = d.StartedAt!.Value, d.Cpus, d.Gpus, d.MemoryMiB })
            .ToListAsync(ct);

        var result = new List<UsageInterval>();
        foreach (var j in jobs)
        {
            // Admission is when the scheduler handed the resources over; a job seen before either is known waits a pass.
            if ((j.AdmittedAt ?? j.StartedAt) is { } start)
            {
                result.Add(new UsageInterval
                {
                    WorkloadKind = WorkloadKind.Job, WorkloadId = j.Id, StartedAt = Truncate(start), AccountId = j.AccountId,
                    UserId = j.OwnerUserId, Cpus = j.Cpus, Gpus = j.Gpus, MemoryMiB = j.Memory,
                });
            }
        }

        result.AddRange(deployments.Select(d => new UsageInterval
        {
            WorkloadKind = WorkloadKind.Deployment, WorkloadId = d.Id, StartedAt = Truncate(d.StartedAt), AccountId = d.AccountId,
            UserId = d.OwnerUserId, Cpus = d.Cpus, Gpus = d.Gpus, MemoryMiB = d.MemoryMiB,
        }));
        return result;
    }

    /// <summary>When each run that no longer holds resources ended, from its workload's row.</summary>
    private async Task<Dictionary<(WorkloadKind, Guid, DateTimeOffset), DateTimeOffset>> EndsAsync(
        List<UsageInterval> ended, DateTimeOffset now, CancellationToken ct)
    {
        var result = new Dictionary<(WorkloadKind, Guid, DateTimeOffset), DateTimeOffset>();
        var jobIds = ended.Where(i => i.WorkloadKind == WorkloadKind.Job).Select(i => i.WorkloadId).ToList();
        var deploymentIds = ended.Where(i => i.WorkloadKind == WorkloadKind.Deployment).Select(i => i.WorkloadId).ToList();
        var jobs = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id))
            .Select(j => new { j.Id, j.FinishedAt, j.UpdatedAt }).ToDictionaryAsync(j => j.Id, ct);
        var deployments = await db.Deployments.AsNoTracking().Where(d => deploymentIds.Contains(d.Id))
            .Select(d => new { d.Id, d.StartedAt, d.StoppedAt, d.UpdatedAt }).ToDictionaryAsync(d => d.Id, ct);

        foreach (var i in ended)
        {
            DateTimeOffset end;
            if (i.WorkloadKind == WorkloadKind.Job)
            {
                // A row gone (deleted) ends its run now: what was held until then stays accounted.
                end = jobs.TryGetValue(i.WorkloadId, out var j) ? j.FinishedAt ?? j.UpdatedAt : now;
            }
            else if (deployments.TryGetValue(i.WorkloadId, out var d))
            {
                var restarted = d.StartedAt is { } s && Truncate(s) > i.StartedAt;
                end = d.StoppedAt is { } stopped && stopped >= i.StartedAt && (!restarted || stopped <= d.StartedAt) ? stopped
                    : restarted ? d.StartedAt!.Value
                    : d.UpdatedAt;
            }
            else
            {
                end = now;
            }

            result[(i.WorkloadKind, i.WorkloadId, i.StartedAt)] = Truncate(end < i.StartedAt ? i.StartedAt : end > now ? now : end);
        }

        return result;
    }

    private async Task RecomputeAsync(WorkloadKind kind, Guid id, List<UsageInterval> open,
        Dictionary<(WorkloadKind, Guid, DateTimeOffset), DateTimeOffset> ends, DateTimeOffset now, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var i in open)
        {
            if (ends.TryGetValue((kind, id, i.StartedAt), out var end))
            {
                await db.UsageIntervals.Where(x => x.WorkloadKind == kind && x.WorkloadId == id && x.StartedAt == i.StartedAt)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, end), ct);
            }
        }

        var lastRecorded = await db.UsageRecords.Where(r => r.WorkloadKind == kind && r.WorkloadId == id)
            .MaxAsync(r => (DateTimeOffset?)r.Hour, ct);
        var from = HourOf(open.Min(i => i.StartedAt));
        if (lastRecorded is { } last && last > from)
        {
            from = last;
        }

        var to = open.Max(i => ends.TryGetValue((kind, id, i.StartedAt), out var e) ? e : now);
        var intervals = await db.UsageIntervals.AsNoTracking()
            .Where(x => x.WorkloadKind == kind && x.WorkloadId == id && (x.EndedAt == null || x.EndedAt > from) && x.StartedAt < to)
            .ToListAsync(ct);
        foreach (var hour in Split(intervals, from, to, now))
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO "UsageRecords" ("WorkloadKind", "WorkloadId", "Hour", "AccountId", "UserId", "CpuSeconds", "GpuSeconds", "MemoryMiBSeconds")
                VALUES ({kind.ToString()}, {id}, {hour.Hour}, {hour.AccountId}, {hour.UserId}, {hour.CpuSeconds}, {hour.GpuSeconds}, {hour.MemoryMiBSeconds})
                ON CONFLICT ("WorkloadKind", "WorkloadId", "Hour") DO UPDATE SET
                    "CpuSeconds" = EXCLUDED."CpuSeconds", "GpuSeconds" = EXCLUDED."GpuSeconds", "MemoryMiBSeconds" = EXCLUDED."MemoryMiBSeconds"
                """, ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// The totals of every hour from <paramref name="from"/> (an hour start) up to the one holding <paramref name="to"/>:
    /// for each interval (open ones end at <paramref name="now"/>), resources × the seconds it overlaps the hour.
    /// </summary>
    public static IReadOnlyList<UsageRecord> Split(IReadOnlyList<UsageInterval> intervals, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now)
    {
        var hours = new List<UsageRecord>();
        if (intervals.Count == 0)
        {
            return hours;
        }

        for (var hour = HourOf(from); hour < to || hour == HourOf(from); hour = hour.AddHours(1))
        {
            var record = new UsageRecord { Hour = hour, AccountId = intervals[0].AccountId, UserId = intervals[0].UserId };
            foreach (var i in intervals)
            {
                var start = i.StartedAt > hour ? i.StartedAt : hour;
                var endOfRun = i.EndedAt ?? now;
                var end = endOfRun < hour.AddHours(1) ? endOfRun : hour.AddHours(1);
                var seconds = (end - start).TotalSeconds;
                if (seconds > 0)
                {
                    record.CpuSeconds += i.Cpus * seconds;
                    record.GpuSeconds += i.Gpus * seconds;
                    record.MemoryMiBSeconds += i.MemoryMiB * seconds;
                }
            }

            hours.Add(record);
        }

        return hours;
    }

    public static DateTimeOffset HourOf(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>PostgreSQL keeps microseconds; keys compared in memory must be cut the same way.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset t) =>
        new DateTimeOffset(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);
}
