using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Jobs;

/// <summary>At submit: a job that no amount of waiting would let start under its quotas is refused, naming the limit.</summary>
public sealed partial class JobService
{
    /// <summary>
    /// Limits that do not change by waiting: more CPUs or GPUs at once than the member's or the account's maximum, an
    /// account or member allowed no running jobs, or a CPU-/GPU-hour budget of zero. (A spent budget, or a limit taken by
    /// running jobs, only makes the job wait: the scheduler says why.)
    /// </summary>
    private async Task ValidateQuotasAsync(Guid userId, Guid accountId, List<JobReplica> replicas, FieldErrors errors, CancellationToken ct)
    {
        var rows = await db.JobQuotas.AsNoTracking().Where(q => q.AccountId == accountId && (q.UserId == null || q.UserId == userId)).ToListAsync(ct);
        var accountName = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Name).FirstOrDefaultAsync(ct) ?? "the account";
        var accountRow = rows.FirstOrDefault(q => q.UserId == null);
        var levels = new List<(JobQuotaValues Limits, string Whose)>
        {
            (accountRow is null ? JobQuotaValues.Of(SnapshotReader.DefaultsOf(db)) : JobQuotaValues.Of(accountRow), $"the account {accountName} allows"),
        };
        if (rows.FirstOrDefault(q => q.UserId == userId) is { } memberRow)
        {
            levels.Insert(0, (JobQuotaValues.Of(memberRow), $"your limit in {accountName} (set by its masters) is"));
        }

        var cpus = replicas.Sum(r => r.Cpus);
        var gpus = replicas.Sum(r => r.Gpus);
        var gpuField = replicas.Any(r => r.Role == ReplicaRole.Trainer && r.Gpus > 0) ? "trainers.gpus" : "parameterServers.gpus";
        static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        foreach (var (limits, whose) in levels)
        {
            if (limits.MaxRunningJobs == 0)
            {
                errors.Add("accountId", $"No jobs can run here: {whose} 0 running jobs.");
                return;
            }

            if (gpus > 0 && limits.MaxGpus is { } maxGpus && gpus > maxGpus)
            {
                errors.Add(gpuField, $"This job needs {gpus} GPU{(gpus == 1 ? "" : "s")} at once; {whose} {maxGpus} (MaxGpus). It would never start: ask for fewer.");
                return;
            }

            if (limits.MaxCpus is { } maxCpus && cpus > maxCpus + 1e-9)
            {
                errors.Add("trainers.cpus", $"This job needs {N(cpus)} CPUs at once; {whose} {N(maxCpus)} (MaxCpus). It would never start: ask for fewer.");
                return;
            }

            if (gpus > 0 && new[] { limits.GpuHoursPerDay, limits.GpuHoursPerWeek, limits.GpuHoursPerMonth }.Any(h => h == 0))
            {
                errors.Add(gpuField, $"This job needs GPUs; {whose} 0 GPU-hours. It would never start: run it without GPUs.");
                return;
            }

            if (new[] { limits.CpuHoursPerDay, limits.CpuHoursPerWeek, limits.CpuHoursPerMonth }.Any(h => h == 0))
            {
                errors.Add("accountId", $"No jobs can run here: {whose} 0 CPU-hours.");
                return;
            }
        }
    }
}
