using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Limits;
using Platform.Core.Persistence;

namespace Platform.Core.Usage;

/// <summary>
/// What the usage API and pages show: a workload's sampled series (whoever may see the workload), an account's or a
/// member's accounted hours and limits (members see their own, masters the whole account), and the infrastructure's
/// nodes (the caller checks for a platform admin).
/// </summary>
public sealed partial class UsageService(
    PlatformDbContext db, AccountService accounts, LimitService limits, JobService jobs, DeploymentService deployments, TimeProvider clock)
{
    public static readonly string[] Windows = ["day", "week", "month"];
    public static readonly string[] Scopes = ["me", "account"];

    /// <summary>A job's series per replica; a job the caller may not see does not exist (404).</summary>
    public async Task<Result<WorkloadUsageResponse>> JobSeriesAsync(Guid userId, Guid jobId, CancellationToken ct = default)
    {
        var job = await jobs.GetAsync(userId, jobId, ct);
        if (!job.IsSuccess)
        {
            return job.Error!;
        }

        var running = job.Value!.State is "starting" or "running" or "stopping";
        return await SeriesAsync(WorkloadKind.Job, jobId, job.Value.State, running, job.Value.Backend, ct);
    }

    /// <summary>A deployment's series ("main"), for whoever may see the deployment.</summary>
    public async Task<Result<WorkloadUsageResponse>> DeploymentSeriesAsync(Guid userId, Guid deploymentId, CancellationToken ct = default)
    {
        var deployment = await deployments.GetAsync(userId, deploymentId, ct);
        if (!deployment.IsSuccess)
        {
            return deployment.Error!;
        }

        var backend = await db.Deployments.Where(d => d.Id == deploymentId).Select(d => d.Backend).FirstAsync(ct);
        var state = deployment.Value!.Observed.ToLowerInvariant();
        return await SeriesAsync(WorkloadKind.Deployment, deploymentId, state, string.Equals(state, "running", StringComparison.OrdinalIgnoreCase), backend, ct);
    }

    private async Task<WorkloadUsageResponse> SeriesAsync(WorkloadKind kind, Guid id, string state, bool running, string backend, CancellationToken ct)
    {
        var rows = await db.UsageSamples.AsNoTracking()
            .Where(s => s.WorkloadKind == kind && s.WorkloadId == id)
            .OrderBy(s => s.Replica).ThenBy(s => s.Minute)
            .ToListAsync(ct);
        var series = rows.GroupBy(r => r.Replica).Select(group =>
        {
            var t = new List<DateTimeOffset>();
            var cpu = new List<double?>();
            var gpu = new List<double?>();
            var memory = new List<long?>();
            var rx = new List<long?>();
            var tx = new List<long?>();
            var read = new List<long?>();
            var write = new List<long?>();
            foreach (var row in group)
            {
                for (var slot = 0; slot < 6; slot++)
                {
                    // A slot never written (the replica was not running, or Workers was down) is no point at all.
                    if (At(row.Memory, slot) < 0 && float.IsNaN(At(row.Cpu, slot)))
                    {
                        continue;
                    }

                    t.Add(row.Minute.AddSeconds(slot * 10));
                    cpu.Add(Real(At(row.Cpu, slot)));
                    gpu.Add(Real(At(row.Gpu, slot)));
                    memory.Add(Counter(At(row.Memory, slot)));
                    rx.Add(Counter(At(row.NetRx, slot)));
                    tx.Add(Counter(At(row.NetTx, slot)));
                    read.Add(Counter(At(row.DiskRead, slot)));
                    write.Add(Counter(At(row.DiskWrite, slot)));
                }
            }

            return new ReplicaUsageSeries(group.Key, t, cpu, memory, gpu, rx, tx, read, write);
        }).ToList();

        var notes = new List<string>();
        if (backend == Deployments.Backends.ProcessBackend.BackendName)
        {
            notes.Add("Network is not measured on the process backend: a process group has no network counters of its own.");
        }

        if (series.Count > 0 && series.All(s => s.Gpu.All(g => g is null)))
        {
            notes.Add("GPU use is not measured here (no nvidia-smi on the node, or no GPU backend).");
        }

        return new WorkloadUsageResponse(id, kind == WorkloadKind.Job ? "job" : "deployment", state, running, notes, series);
    }

    private static float At(float[] values, int slot) => slot < values.Length ? values[slot] : float.NaN;

    private static long At(long[] values, int slot) => slot < values.Length ? values[slot] : -1;

    private static double? Real(float value) => float.IsNaN(value) || float.IsInfinity(value) ? null : Math.Round(value, 4);

    private static long? Counter(long value) => value < 0 ? null : value;

    /// <summary>
    /// The report for <paramref name="window"/> (day: the last 24 hours by hour; week and month: the last 7 and 30
    /// days by day, UTC). Scope "me" (the default) is the caller's own work in the account; "account" is everyone's,
    /// for the account's masters (others: 403). An account the caller is not a member of does not exist (404).
    /// </summary>
    public async Task<Result<UsageReportResponse>> ReportAsync(Guid userId, Guid? accountId, string? window, string? scope, CancellationToken ct = default)
    {
        var fields = new FieldErrors();
        window = string.IsNullOrWhiteSpace(window) ? "week" : window.Trim().ToLowerInvariant();
        scope = string.IsNullOrWhiteSpace(scope) ? "me" : scope.Trim().ToLowerInvariant();
        if (!Windows.Contains(window))
        {
            fields.Add("window", "window must be day, week or month.");
        }

        if (!Scopes.Contains(scope))
        {
            fields.Add("scope", "scope must be me or account.");
        }

        if (fields.Any)
        {
            return fields.ToError();
        }

        var account = accountId is { } id ? id : (await accounts.GetCurrentAsync(userId, ct))?.Id;
        if (account is null)
        {
            return Error.NotFound("Account");
        }

        var role = await accounts.RequireRoleAsync(userId, account.Value, AccountRole.Viewer, ct);
        if (!role.IsSuccess)
        {
            return role.Error!;
        }

        var isMaster = role.Value == AccountRole.Master;
        if (scope == "account" && !isMaster)
        {
            return Error.Forbidden("Only the account's masters see everyone's usage; ask for scope=me to see your own.");
        }

        var accountName = await db.Accounts.Where(a => a.Id == account).Select(a => a.Name).FirstAsync(ct);
        var now = clock.GetUtcNow();
        var (from, bucket, count) = Range(window, now);
        Guid? user = scope == "me" ? userId : null;
        var records = await RecordsAsync(account.Value, user, from, ct);
        var buckets = Enumerable.Range(0, count).Select(i => bucket == "hour" ? from.AddHours(i) : from.AddDays(i)).Select(start =>
        {
            var inBucket = records.Where(r => BucketOf(r.Hour, bucket) == start).ToList();
            double Hours(WorkloadKind kind, Func<UsageRecord, double> of) => Math.Round(inBucket.Where(r => r.WorkloadKind == kind).Sum(of) / 3600, 4);
            return new UsageBucket(start, Hours(WorkloadKind.Job, r => r.CpuSeconds), Hours(WorkloadKind.Job, r => r.GpuSeconds),
                Hours(WorkloadKind.Deployment, r => r.CpuSeconds), Hours(WorkloadKind.Deployment, r => r.GpuSeconds));
        }).ToList();

        var workloads = await WorkloadRowsAsync(records, ct);
        return new UsageReportResponse(account.Value, accountName, scope, window, bucket, from, now, isMaster,
            await LimitRowsAsync(userId, account.Value, user, now, ct), buckets, workloads,
            Math.Round(records.Sum(r => r.CpuSeconds) / 3600, 4), Math.Round(records.Sum(r => r.GpuSeconds) / 3600, 4));
    }

    /// <summary>The report as CSV: a header row, then one row per bucket and workload with anything allocated.</summary>
    public async Task<Result<string>> ReportCsvAsync(Guid userId, Guid? accountId, string? window, string? scope, CancellationToken ct = default)
    {
        var report = await ReportAsync(userId, accountId, window, scope, ct);
        if (!report.IsSuccess)
        {
            return report.Error!;
        }

        var r = report.Value!;
        var records = await RecordsAsync(r.AccountId, r.Scope == "me" ? userId : null, r.From, ct);
        var names = r.Workloads.ToDictionary(w => (w.Kind, w.Id));
        var csv = new StringBuilder("bucket_start,kind,workload_id,name,user,cpu_hours,gpu_hours,memory_gib_hours\n");
        foreach (var group in records.GroupBy(x => (Start: BucketOf(x.Hour, r.Bucket), x.WorkloadKind, x.WorkloadId)).OrderBy(g => g.Key.Start).ThenBy(g => g.Key.WorkloadId))
        {
            var kind = KindName(group.Key.WorkloadKind);
            var row = names.GetValueOrDefault((kind, group.Key.WorkloadId));
            csv.Append(group.Key.Start.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append(',')
                .Append(kind).Append(',')
                .Append(group.Key.WorkloadId).Append(',')
                .Append(Csv(row?.Name ?? "")).Append(',')
                .Append(Csv(row?.User ?? "")).Append(',')
                .Append(Number(group.Sum(x => x.CpuSeconds) / 3600)).Append(',')
                .Append(Number(group.Sum(x => x.GpuSeconds) / 3600)).Append(',')
                .Append(Number(group.Sum(x => x.MemoryMiBSeconds) / 1024 / 3600)).Append('\n');
        }

        return csv.ToString();
    }

    private static string Number(double value) => Math.Round(value, 4).ToString(CultureInfo.InvariantCulture);

    /// <summary>Quoted when needed; a leading = + - @ is defused so a spreadsheet never runs a name as a formula.</summary>
    private static string Csv(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static string KindName(WorkloadKind kind) => kind == WorkloadKind.Job ? "job" : "ide";

    private static (DateTimeOffset From, string Bucket, int Count) Range(string window, DateTimeOffset now)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return window switch
        {
            "day" => (UsageAccounting.HourOf(now).AddHours(-23), "hour", 24),
            "week" => (today.AddDays(-6), "day", 7),
            _ => (today.AddDays(-29), "day", 30),
        };
    }

    private static DateTimeOffset BucketOf(DateTimeOffset hour, string bucket) =>
        bucket == "hour" ? hour : new DateTimeOffset(hour.UtcDateTime.Date, TimeSpan.Zero);

    private Task<List<UsageRecord>> RecordsAsync(Guid accountId, Guid? userId, DateTimeOffset from, CancellationToken ct) =>
        db.UsageRecords.AsNoTracking()
            .Where(r => r.AccountId == accountId && r.Hour >= from && (userId == null || r.UserId == userId))
            .ToListAsync(ct);

    private async Task<List<WorkloadUsageRow>> WorkloadRowsAsync(List<UsageRecord> records, CancellationToken ct)
    {
        var jobIds = records.Where(r => r.WorkloadKind == WorkloadKind.Job).Select(r => r.WorkloadId).Distinct().ToList();
        var deploymentIds = records.Where(r => r.WorkloadKind == WorkloadKind.Deployment).Select(r => r.WorkloadId).Distinct().ToList();
        var userIds = records.Select(r => r.UserId).Distinct().ToList();
        var jobNames = await db.Jobs.Where(j => jobIds.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Name, ct);
        var deploymentNames = await db.Deployments.Where(d => deploymentIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, d => d.Title, ct);
        var users = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
        return records.GroupBy(r => (r.WorkloadKind, r.WorkloadId))
            .Select(g =>
            {
                var user = g.First().UserId;
                var name = g.Key.WorkloadKind == WorkloadKind.Job ? jobNames.GetValueOrDefault(g.Key.WorkloadId) : deploymentNames.GetValueOrDefault(g.Key.WorkloadId);
                return new WorkloadUsageRow(KindName(g.Key.WorkloadKind), g.Key.WorkloadId, name ?? "(deleted)", user, users.GetValueOrDefault(user) ?? "",
                    Math.Round(g.Sum(r => r.CpuSeconds) / 3600, 4), Math.Round(g.Sum(r => r.GpuSeconds) / 3600, 4),
                    Math.Round(g.Sum(r => r.MemoryMiBSeconds) / 1024 / 3600, 4));
            })
            .OrderByDescending(w => w.CpuHours + w.GpuHours).ThenBy(w => w.Name, StringComparer.Ordinal)
            .ToList();
    }
}
