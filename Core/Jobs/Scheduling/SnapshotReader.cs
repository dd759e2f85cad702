using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs.Scheduling;

/// <summary>A queued job's row as the scheduler writes it back: the generation its decision is compared with.</summary>
public sealed record QueuedRow(Guid Id, Guid AccountId, Guid OwnerUserId, string Name, long Generation);

/// <summary>The snapshot one pass decides on, and the rows behind its queued jobs.</summary>
public sealed record SchedulerInput(SchedulerSnapshot Snapshot, IReadOnlyDictionary<Guid, QueuedRow> Rows);

/// <summary>
/// Reads what a scheduling pass decides on in a handful of bulk queries (docs/jobs-design.md, "Scheduler (as built)"):
/// queued jobs wanted running with their replicas; jobs holding resources (Starting, Running, Stopping) with their
/// placements; the backend's nodes; quotas (each account's row, else <see cref="JobQuotaOptions"/>; each member's row);
/// budget use per window from <c>UsageRecords</c> plus the time of running jobs not yet recorded; fair share.
/// <para>
/// Limits and budgets of a member count within one account, so the snapshot's "user" of a job is the membership
/// (<see cref="MemberKey"/>), not the person: the same person in two accounts has two sets of limits.
/// </para>
/// <para>
/// Time not yet recorded: a running job's records cover <c>sum(CpuSeconds) / its CPUs</c> seconds from its start (however
/// the accounting loop splits them into hours); the rest, up to now, is added to every window it falls in.
/// </para>
/// </summary>
public sealed class SnapshotReader(PlatformDbContext db, BatchBackends backends, JobQuotaOptions defaults, TimeProvider clock)
{
    private static readonly string[] Active = [nameof(JobObserved.Starting), nameof(JobObserved.Running), nameof(JobObserved.Stopping)];

    /// <summary>The options the platform was configured with, found through the context's application services (defaults when none).</summary>
    public static JobQuotaOptions DefaultsOf(PlatformDbContext db)
    {
        try
        {
            return db.GetService<IOptions<JobQuotaOptions>>().Value;
        }
        catch (InvalidOperationException)
        {
            return new JobQuotaOptions();
        }
    }

    public static SnapshotReader For(PlatformDbContext db, BatchBackends backends, TimeProvider clock) => new(db, backends, DefaultsOf(db), clock);

    /// <summary>A stable key for one person in one account (the snapshot's "user").</summary>
    public static Guid MemberKey(Guid accountId, Guid userId)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> u = stackalloc byte[16];
        accountId.TryWriteBytes(a);
        userId.TryWriteBytes(u);
        for (var i = 0; i < 16; i++)
        {
            a[i] ^= (byte)(u[i] * 31 + i);
        }

        return new Guid(a);
    }

    /// <summary>When the current day, week (Monday) and month started, in UTC.</summary>
    public static (DateTimeOffset Day, DateTimeOffset Week, DateTimeOffset Month) WindowStarts(DateTimeOffset now)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var week = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        var month = new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (day, week, month);
    }

    public static DateTimeOffset ResetOf(BudgetWindow window, DateTimeOffset now)
    {
        var (day, week, month) = WindowStarts(now);
        return window switch { BudgetWindow.Day => day.AddDays(1), BudgetWindow.Week => week.AddDays(7), _ => month.AddMonths(1) };
    }

    public async Task<SchedulerInput> ReadAsync(CancellationToken ct) => await ReadAsync(withQueued: true, ct);

    /// <param name="also">A member (account, user) whose quotas the snapshot must hold even with nothing queued or running (a preview's).</param>
    public async Task<SchedulerInput> ReadAsync(bool withQueued, CancellationToken ct, (Guid Account, Guid User)? also = null)
    {
        var now = clock.GetUtcNow();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(ct);
        }

        try
        {
            var nodes = await backends.Default.NodesAsync(ct);
            var queuedRows = new Dictionary<Guid, QueuedRow>();
            var queued = new List<QueuedJob>();
            if (withQueued)
            {
                await ReadQueuedAsync(connection, queuedRows, queued, ct);
            }

            var running = await ReadRunningAsync(connection, now, ct);
            var durations = await ReadMediansAsync(connection, ct);
            TimeSpan? Expected(int? limit, Guid owner, string name) =>
                limit is { } m ? TimeSpan.FromMinutes(m) : durations.TryGetValue((owner, name), out var d) ? d : null;

            var queuedJobs = queued.Select(q =>
            {
                var row = queuedRows[q.Id];
                return q with { ExpectedDuration = Expected(q.ExpectedDuration is { } l ? (int)l.TotalMinutes : null, row.OwnerUserId, row.Name) };
            }).ToList();
            var runningJobs = running.Select(r => new RunningJob(r.Id, r.AccountId, MemberKey(r.AccountId, r.OwnerUserId), r.Placements,
                Expected(r.TimeLimitMinutes, r.OwnerUserId, r.Name) is { } d ? (r.StartedAt ?? now) + d : null)).ToList();

            var quotas = await db.JobQuotas.AsNoTracking().ToListAsync(ct);
            var use = await ReadUseAsync(connection, now, running, ct);
            var snapshot = Build(now, nodes, runningJobs, queuedJobs, quotas, use, defaults, also);
            return new SchedulerInput(snapshot, queuedRows);
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    /// <summary>What each member (account, user) uses now, and each account in all; only the accounts asked for (null: all).</summary>
    public async Task<(Dictionary<(Guid Account, Guid User), JobQuotaUse> Members, Dictionary<Guid, JobQuotaUse> Accounts)> ReadUseAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(ct);
        }

        try
        {
            var running = await ReadRunningAsync(connection, now, ct);
            var use = await ReadUseAsync(connection, now, running, ct);
            return (use.ToDictionary(p => p.Key, p => p.Value.Use), Sum(use));
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    private static Dictionary<Guid, JobQuotaUse> Sum(Dictionary<(Guid Account, Guid User), MemberUse> use) =>
        use.GroupBy(p => p.Key.Account).ToDictionary(g => g.Key, g => g.Select(p => p.Value.Use).Aggregate(JobQuotaUse.Zero, Add));

    private static JobQuotaUse Add(JobQuotaUse a, JobQuotaUse b) => new(
        a.RunningJobs + b.RunningJobs, a.Cpus + b.Cpus, a.Gpus + b.Gpus, a.CpuHoursToday + b.CpuHoursToday, a.CpuHoursThisWeek + b.CpuHoursThisWeek,
        a.CpuHoursThisMonth + b.CpuHoursThisMonth, a.GpuHoursToday + b.GpuHoursToday, a.GpuHoursThisWeek + b.GpuHoursThisWeek, a.GpuHoursThisMonth + b.GpuHoursThisMonth);

    private static SchedulerSnapshot Build(DateTimeOffset now, IReadOnlyList<NodeCapacity> nodes, List<RunningJob> running, List<QueuedJob> queued,
        List<JobQuota> quotas, Dictionary<(Guid Account, Guid User), MemberUse> use, JobQuotaOptions defaults, (Guid Account, Guid User)? also)
    {
        var accountRows = quotas.Where(q => q.UserId is null).ToDictionary(q => q.AccountId);
        var memberRows = quotas.Where(q => q.UserId is not null).ToDictionary(q => MemberKey(q.AccountId, q.UserId!.Value));
        var accountUse = Sum(use);
        var memberUse = use.ToDictionary(p => MemberKey(p.Key.Account, p.Key.User), p => p.Value);
        var accounts = queued.Select(q => q.AccountId).Concat(running.Select(r => r.AccountId)).Concat(use.Keys.Select(k => k.Account)).ToHashSet();
        var members = queued.Select(q => q.UserId).Concat(running.Select(r => r.UserId)).ToHashSet();
        if (also is { } extra)
        {
            accounts.Add(extra.Account);
            members.Add(MemberKey(extra.Account, extra.User));
        }

        var accountLimits = new Dictionary<Guid, ConcurrencyLimits>();
        var accountBudgets = new Dictionary<Guid, IReadOnlyList<TimeBudget>>();
        var weights = new Dictionary<Guid, double>();
        var recent = new Dictionary<Guid, double>();
        var defaultValues = JobQuotaValues.Of(defaults);
        foreach (var account in accounts)
        {
            var row = accountRows.GetValueOrDefault(account);
            var values = row is null ? defaultValues : JobQuotaValues.Of(row);
            accountLimits[account] = new ConcurrencyLimits(values.MaxRunningJobs, values.MaxCpus, values.MaxGpus);
            accountBudgets[account] = Budgets(values, accountUse.GetValueOrDefault(account) ?? JobQuotaUse.Zero, now);
            weights[account] = row?.Weight ?? defaults.Weight;
            recent[account] = use.Where(p => p.Key.Account == account).Sum(p => p.Value.RecentHours);
        }

        var userLimits = new Dictionary<Guid, ConcurrencyLimits>();
        var userBudgets = new Dictionary<Guid, IReadOnlyList<TimeBudget>>();
        foreach (var member in members)
        {
            if (memberRows.TryGetValue(member, out var row))
            {
                var values = JobQuotaValues.Of(row);
                userLimits[member] = new ConcurrencyLimits(values.MaxRunningJobs, values.MaxCpus, values.MaxGpus);
                userBudgets[member] = Budgets(values, memberUse.GetValueOrDefault(member)?.Use ?? JobQuotaUse.Zero, now);
            }
        }

        return new SchedulerSnapshot(now, nodes, running, queued, userLimits, accountLimits, userBudgets, accountBudgets, weights, recent);
    }

    /// <summary>The time budgets a level sets, with what is used of each in its current window.</summary>
    public static List<TimeBudget> Budgets(JobQuotaValues limits, JobQuotaUse use, DateTimeOffset now)
    {
        var budgets = new List<TimeBudget>();
        void Add(bool gpu, BudgetWindow window, double? limit, double used)
        {
            if (limit is { } l)
            {
                budgets.Add(new TimeBudget(gpu, window, l, used, ResetOf(window, now)));
            }
        }

        Add(false, BudgetWindow.Day, limits.CpuHoursPerDay, use.CpuHoursToday);
        Add(false, BudgetWindow.Week, limits.CpuHoursPerWeek, use.CpuHoursThisWeek);
        Add(false, BudgetWindow.Month, limits.CpuHoursPerMonth, use.CpuHoursThisMonth);
        Add(true, BudgetWindow.Day, limits.GpuHoursPerDay, use.GpuHoursToday);
        Add(true, BudgetWindow.Week, limits.GpuHoursPerWeek, use.GpuHoursThisWeek);
        Add(true, BudgetWindow.Month, limits.GpuHoursPerMonth, use.GpuHoursThisMonth);
        return budgets;
    }

    private static async Task ReadQueuedAsync(NpgsqlConnection connection, Dictionary<Guid, QueuedRow> rows, List<QueuedJob> queued, CancellationToken ct)
    {
        var replicas = new Dictionary<Guid, List<ReplicaDemand>>();
        await using (var command = new NpgsqlCommand("""
            SELECT r."JobId", r."Role", r."Index", r."Cpus", r."Gpus", r."MemoryMiB"
            FROM "JobReplicas" r JOIN "Jobs" j ON j."Id" = r."JobId"
            WHERE j."Observed" = 'Queued' AND j."Desired" = 'Running'
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                if (!replicas.TryGetValue(id, out var list))
                {
                    replicas[id] = list = [];
                }

                list.Add(Demand(reader, 1));
            }
        }

        await using (var command = new NpgsqlCommand("""
            SELECT "Id", "AccountId", "OwnerUserId", "Name", "Generation", "Priority", "SubmittedAt", "TimeLimitMinutes"
            FROM "Jobs" WHERE "Observed" = 'Queued' AND "Desired" = 'Running'
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var row = new QueuedRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetInt64(4));
                rows[row.Id] = row;
                // The time limit rides in ExpectedDuration until the history is known (ReadAsync completes it).
                queued.Add(new QueuedJob(row.Id, row.AccountId, MemberKey(row.AccountId, row.OwnerUserId), reader.GetInt32(5),
                    reader.GetFieldValue<DateTimeOffset>(6), replicas.GetValueOrDefault(row.Id) ?? [],
                    reader.IsDBNull(7) ? null : TimeSpan.FromMinutes(reader.GetInt32(7))));
            }
        }
    }

    private static ReplicaDemand Demand(DbDataReader reader, int from) => new(
        reader.GetString(from) == nameof(ReplicaRole.Trainer) ? "trainer" : "pserver", reader.GetInt32(from + 1),
        reader.GetDouble(from + 2), reader.GetInt32(from + 3), reader.GetInt32(from + 4));

    private sealed record Held(
        Guid Id, Guid AccountId, Guid OwnerUserId, string Name, int? TimeLimitMinutes, DateTimeOffset? StartedAt, double RecordedCpuSeconds,
        List<Placement> Placements)
    {
        public double Cpus => Placements.Sum(p => p.Replica.Cpus);
        public int Gpus => Placements.Sum(p => p.Replica.Gpus);
    }

    private static async Task<List<Held>> ReadRunningAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken ct)
    {
        var placements = new Dictionary<Guid, List<Placement>>();
        await using (var command = new NpgsqlCommand("""
            SELECT r."JobId", r."Role", r."Index", r."Cpus", r."Gpus", r."MemoryMiB", coalesce(r."Node", '')
            FROM "JobReplicas" r JOIN "Jobs" j ON j."Id" = r."JobId"
            WHERE j."Observed" = ANY(@active)
            """, connection))
        {
            command.Parameters.AddWithValue("active", Active);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                if (!placements.TryGetValue(id, out var list))
                {
                    placements[id] = list = [];
                }

                list.Add(new Placement(Demand(reader, 1), reader.GetString(6)));
            }
        }

        var held = new List<Held>();
        await using (var command = new NpgsqlCommand("""
            SELECT j."Id", j."AccountId", j."OwnerUserId", j."Name", j."TimeLimitMinutes", j."StartedAt",
                   coalesce((SELECT sum(u."CpuSeconds") FROM "UsageRecords" u WHERE u."WorkloadKind" = 'Job' AND u."WorkloadId" = j."Id"), 0)
            FROM "Jobs" j WHERE j."Observed" = ANY(@active)
            """, connection))
        {
            command.Parameters.AddWithValue("active", Active);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                held.Add(new Held(id, reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.GetDouble(6), placements.GetValueOrDefault(id) ?? []));
            }
        }

        return held;
    }

    /// <summary>The median run time of finished jobs per (owner, name), for the names now queued or running.</summary>
    private static async Task<Dictionary<(Guid, string), TimeSpan>> ReadMediansAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var result = new Dictionary<(Guid, string), TimeSpan>();
        await using var command = new NpgsqlCommand("""
            WITH names AS (
                SELECT DISTINCT "OwnerUserId", "Name" FROM "Jobs" WHERE "Observed" IN ('Queued', 'Starting', 'Running', 'Stopping'))
            SELECT j."OwnerUserId", j."Name",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j."FinishedAt" - j."StartedAt"))
            FROM "Jobs" j JOIN names n ON n."OwnerUserId" = j."OwnerUserId" AND n."Name" = j."Name"
            WHERE j."Observed" IN ('Succeeded', 'Failed', 'Stopped') AND j."StartedAt" IS NOT NULL AND j."FinishedAt" IS NOT NULL
            GROUP BY j."OwnerUserId", j."Name"
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[(reader.GetGuid(0), reader.GetString(1))] = TimeSpan.FromSeconds(Math.Max(1, reader.GetDouble(2)));
        }

        return result;
    }

    private sealed record MemberUse(JobQuotaUse Use, double RecentHours);

    /// <summary>Per (account, user): running jobs with their CPUs and GPUs, hours used per window, and fair-share hours.</summary>
    private async Task<Dictionary<(Guid Account, Guid User), MemberUse>> ReadUseAsync(
        NpgsqlConnection connection, DateTimeOffset now, List<Held> running, CancellationToken ct)
    {
        var (day, week, month) = WindowStarts(now);
        var recentFrom = now - defaults.FairShareWindow;
        var from = new[] { day, week, month, recentFrom }.Min();
        var result = new Dictionary<(Guid, Guid), MemberUse>();
        await using (var command = new NpgsqlCommand("""
            SELECT "AccountId", "UserId",
                   coalesce(sum("CpuSeconds") FILTER (WHERE "Hour" >= @day), 0),
                   coalesce(sum("CpuSeconds") FILTER (WHERE "Hour" >= @week), 0),
                   coalesce(sum("CpuSeconds") FILTER (WHERE "Hour" >= @month), 0),
                   coalesce(sum("GpuSeconds") FILTER (WHERE "Hour" >= @day), 0),
                   coalesce(sum("GpuSeconds") FILTER (WHERE "Hour" >= @week), 0),
                   coalesce(sum("GpuSeconds") FILTER (WHERE "Hour" >= @month), 0),
                   coalesce(sum("CpuSeconds" + "GpuSeconds" * @gpuWeight) FILTER (WHERE "Hour" >= @recent), 0)
            FROM "UsageRecords" WHERE "Hour" >= @from
            GROUP BY "AccountId", "UserId"
            """, connection))
        {
            command.Parameters.AddWithValue("day", day);
            command.Parameters.AddWithValue("week", week);
            command.Parameters.AddWithValue("month", month);
            command.Parameters.AddWithValue("recent", recentFrom);
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("gpuWeight", SchedulingPass.GpuWeight);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                result[(reader.GetGuid(0), reader.GetGuid(1))] = new MemberUse(new JobQuotaUse(0, 0, 0,
                    reader.GetDouble(2) / 3600, reader.GetDouble(3) / 3600, reader.GetDouble(4) / 3600,
                    reader.GetDouble(5) / 3600, reader.GetDouble(6) / 3600, reader.GetDouble(7) / 3600), reader.GetDouble(8) / 3600);
            }
        }

        foreach (var job in running)
        {
            var key = (job.AccountId, job.OwnerUserId);
            var current = result.GetValueOrDefault(key) ?? new MemberUse(JobQuotaUse.Zero, 0);
            // Unrecorded: from where its records end (their CPU-seconds over its CPUs, counted from its start) to now.
            var since = job.StartedAt is { } started ? started + TimeSpan.FromSeconds(job.Cpus > 0 ? job.RecordedCpuSeconds / job.Cpus : 0) : now;
            double Hours(DateTimeOffset windowStart) => Math.Max(0, (now - (since > windowStart ? since : windowStart)).TotalHours);
            var u = current.Use;
            result[key] = new MemberUse(new JobQuotaUse(
                u.RunningJobs + 1, u.Cpus + job.Cpus, u.Gpus + job.Gpus,
                u.CpuHoursToday + Hours(day) * job.Cpus, u.CpuHoursThisWeek + Hours(week) * job.Cpus, u.CpuHoursThisMonth + Hours(month) * job.Cpus,
                u.GpuHoursToday + Hours(day) * job.Gpus, u.GpuHoursThisWeek + Hours(week) * job.Gpus, u.GpuHoursThisMonth + Hours(month) * job.Gpus),
                current.RecentHours + Hours(recentFrom) * (job.Cpus + job.Gpus * SchedulingPass.GpuWeight));
        }

        return result;
    }
}
