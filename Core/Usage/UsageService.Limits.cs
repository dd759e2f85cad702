using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;

namespace Platform.Core.Usage;

public sealed partial class UsageService
{
    private static readonly JobObserved[] HoldingJob = [JobObserved.Starting, JobObserved.Running, JobObserved.Stopping];
    private static readonly ObservedState[] HoldingDeployment = [ObservedState.Starting, ObservedState.Running, ObservedState.Stopping];

    /// <summary>
    /// Limits next to what counts against them now. Deployments: the caps of <see cref="Limits.LimitService"/> (the
    /// caller's own; for a whole account, its running totals without a cap). Jobs: what the account's
    /// <see cref="JobQuota"/> rows say (the member's row for "me", the account's row for "account"), read-only; budgets
    /// are summed over the accounted hours of the calendar windows the scheduler uses (day since 00:00 UTC, week since
    /// Monday, month since the 1st), jobs and IDEs together as <see cref="UsageRecord"/>s hold them.
    /// </summary>
    private async Task<List<UsageLimitRow>> LimitRowsAsync(Guid callerId, Guid accountId, Guid? userId, DateTimeOffset now, CancellationToken ct)
    {
        var rows = new List<UsageLimitRow>();
        if (userId is not null)
        {
            var mine = await limits.GetMineAsync(callerId, ct);
            rows.Add(new("IDEs and APIs, all your accounts", "Running deployments", mine.Platform.Deployments.Limit, mine.Platform.Deployments.Used, ""));
            rows.Add(new("IDEs and APIs, all your accounts", "CPUs", mine.Platform.Cpus.Limit, mine.Platform.Cpus.Used, "cores"));
            rows.Add(new("IDEs and APIs, all your accounts", "GPUs", mine.Platform.Gpus.Limit, mine.Platform.Gpus.Used, ""));
            if (mine.Accounts.FirstOrDefault(a => a.AccountId == accountId) is { } here)
            {
                rows.Add(new("IDEs and APIs, this account", "Running deployments", here.Limits.Deployments.Limit, here.Limits.Deployments.Used, ""));
                rows.Add(new("IDEs and APIs, this account", "CPUs", here.Limits.Cpus.Limit, here.Limits.Cpus.Used, "cores"));
                rows.Add(new("IDEs and APIs, this account", "GPUs", here.Limits.Gpus.Limit, here.Limits.Gpus.Used, ""));
            }
        }
        else
        {
            var running = await db.Deployments.AsNoTracking().Where(d => d.AccountId == accountId && HoldingDeployment.Contains(d.Observed))
                .GroupBy(_ => 1).Select(g => new { Count = g.Count(), Cpus = g.Sum(d => d.Cpus), Gpus = g.Sum(d => d.Gpus) }).FirstOrDefaultAsync(ct);
            rows.Add(new("IDEs and APIs, whole account", "Running deployments", null, running?.Count ?? 0, ""));
            rows.Add(new("IDEs and APIs, whole account", "CPUs", null, running?.Cpus ?? 0, "cores"));
            rows.Add(new("IDEs and APIs, whole account", "GPUs", null, running?.Gpus ?? 0, ""));
        }

        var quota = await db.JobQuotas.AsNoTracking().Where(q => q.AccountId == accountId && q.UserId == userId).FirstOrDefaultAsync(ct);
        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => j.AccountId == accountId && HoldingJob.Contains(j.Observed) && (userId == null || j.OwnerUserId == userId))
            .Select(j => new
            {
                Cpus = db.JobReplicas.Where(r => r.JobId == j.Id).Sum(r => (double?)r.Cpus) ?? 0,
                Gpus = db.JobReplicas.Where(r => r.JobId == j.Id).Sum(r => (int?)r.Gpus) ?? 0,
            })
            .ToListAsync(ct);
        var group = userId is null ? "Jobs, whole account" : "Jobs, yours in this account";
        rows.Add(new(group, "Running jobs", quota?.MaxRunningJobs, jobs.Count, ""));
        rows.Add(new(group, "CPUs", quota?.MaxCpus, jobs.Sum(j => j.Cpus), "cores"));
        rows.Add(new(group, "GPUs", quota?.MaxGpus, jobs.Sum(j => j.Gpus), ""));

        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var first = new DateTimeOffset(today.Year, today.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var since = monday < first ? monday : first;
        var hours = await db.UsageRecords.AsNoTracking()
            .Where(r => r.AccountId == accountId && r.Hour >= since && (userId == null || r.UserId == userId))
            .Select(r => new { r.Hour, r.CpuSeconds, r.GpuSeconds })
            .ToListAsync(ct);
        double Used(DateTimeOffset from, bool gpu) => Math.Round(hours.Where(h => h.Hour >= from).Sum(h => gpu ? h.GpuSeconds : h.CpuSeconds) / 3600, 3);
        rows.Add(new(group, "CPU-hours today", quota?.CpuHoursPerDay, Used(today, false), "h"));
        rows.Add(new(group, "CPU-hours this week", quota?.CpuHoursPerWeek, Used(monday, false), "h"));
        rows.Add(new(group, "CPU-hours this month", quota?.CpuHoursPerMonth, Used(first, false), "h"));
        rows.Add(new(group, "GPU-hours today", quota?.GpuHoursPerDay, Used(today, true), "h"));
        rows.Add(new(group, "GPU-hours this week", quota?.GpuHoursPerWeek, Used(monday, true), "h"));
        rows.Add(new(group, "GPU-hours this month", quota?.GpuHoursPerMonth, Used(first, true), "h"));
        return rows;
    }

    private static readonly Lock HostCpuLock = new();
    private static (DateTimeOffset At, long Busy, long Total)? _lastHostCpu;

    /// <summary>
    /// The batch backend's nodes: capacity, what running job replicas (by their node) and running deployments ask for
    /// on them, and the live CPU and memory of the machine this runs on (/proc: the process backend's one node; for a
    /// container engine on the same host, the same figures).
    /// </summary>
    public async Task<IReadOnlyList<NodeResponse>> NodesAsync(BatchBackends backends, CancellationToken ct = default)
    {
        var backend = backends.Default;
        var nodes = await backend.NodesAsync(ct);
        var replicas = await (from r in db.JobReplicas
                              join j in db.Jobs on r.JobId equals j.Id
                              where HoldingJob.Contains(j.Observed) && r.Node != null
                              group r by r.Node into g
                              select new { Node = g.Key!, Count = g.Count(), Cpus = g.Sum(r => r.Cpus), Gpus = g.Sum(r => r.Gpus), Memory = g.Sum(r => (long)r.MemoryMiB) })
            .ToDictionaryAsync(x => x.Node, ct);
        // Deployments carry no node: with one node (the process backend, one engine) they are all on it.
        var deployments = nodes.Count == 1
            ? await db.Deployments.AsNoTracking().Where(d => HoldingDeployment.Contains(d.Observed))
                .GroupBy(_ => 1).Select(g => new { Count = g.Count(), Cpus = g.Sum(d => d.Cpus), Gpus = g.Sum(d => d.Gpus), Memory = g.Sum(d => (long)d.MemoryMiB) })
                .FirstOrDefaultAsync(ct)
            : null;
        var (cpuPercent, memory) = await LiveHostAsync(ct);
        var now = clock.GetUtcNow();
        return nodes.Select(n =>
        {
            var r = replicas.GetValueOrDefault(n.Name);
            return new NodeResponse(n.Name, backend.Name, n.Cpus, n.Gpus, n.MemoryMiB,
                Math.Round((r?.Cpus ?? 0) + (deployments?.Cpus ?? 0), 3), (r?.Gpus ?? 0) + (deployments?.Gpus ?? 0), (r?.Memory ?? 0) + (deployments?.Memory ?? 0),
                r?.Count ?? 0, deployments?.Count ?? 0,
                nodes.Count == 1 ? cpuPercent : null, nodes.Count == 1 ? memory?.Total - memory?.Available : null, nodes.Count == 1 ? memory?.Total : null, now);
        }).ToList();
    }

    /// <summary>Busy share of all cores since the previous call (or over 250 ms when there was none lately), and memory.</summary>
    private static async Task<(double? CpuPercent, (long Total, long Available)? Memory)> LiveHostAsync(CancellationToken ct)
    {
        if (ProcFs.ReadHostCpu() is not { } first)
        {
            return (null, ProcFs.ReadMemory());
        }

        var now = DateTimeOffset.UtcNow;
        (DateTimeOffset At, long Busy, long Total)? previous;
        lock (HostCpuLock)
        {
            previous = _lastHostCpu;
            _lastHostCpu = (now, first.Busy, first.Total);
        }

        if (previous is not { } p || now - p.At > TimeSpan.FromMinutes(1) || first.Total - p.Total <= 0)
        {
            await Task.Delay(250, ct);
            p = (now, first.Busy, first.Total);
            if (ProcFs.ReadHostCpu() is { } second)
            {
                lock (HostCpuLock)
                {
                    _lastHostCpu = (DateTimeOffset.UtcNow, second.Busy, second.Total);
                }

                first = second;
            }
        }

        var total = first.Total - p.Total;
        double? percent = total > 0 ? Math.Round(100.0 * (first.Busy - p.Busy) / total, 1) : null;
        return (percent, ProcFs.ReadMemory());
    }
}
