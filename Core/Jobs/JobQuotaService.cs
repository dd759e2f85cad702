using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Jobs.Backends;
using Platform.Core.Jobs.Scheduling;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs;

/// <summary>
/// Job quotas at two levels. Admins set an account's (concurrent jobs, CPUs and GPUs; CPU- and GPU-hours per day, week
/// and month; the fair-share weight); an account without a row has the platform's (<see cref="JobQuotaOptions"/>). An
/// account's masters set each member's within the account's, never above. Members read what applies to them and what
/// they use. The scheduler enforces them (<see cref="SnapshotReader"/>); submit refuses what can never fit.
/// </summary>
public sealed class JobQuotaService(
    PlatformDbContext db, AccountService accounts, BatchBackends backends, IOptions<JobQuotaOptions> options, TimeProvider clock)
{
    public const double MaxHours = 1_000_000;

    private JobQuotaOptions Defaults => options.Value;

    /// <summary>For platform admins (the caller checks): what the account has and uses.</summary>
    public async Task<Result<AccountJobQuotasResponse>> GetAccountAsync(Guid accountId, CancellationToken ct = default)
    {
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => new { a.Id, a.Name }).FirstOrDefaultAsync(ct);
        if (account is null)
        {
            return Error.NotFound("Account");
        }

        var row = await db.JobQuotas.AsNoTracking().FirstOrDefaultAsync(q => q.AccountId == accountId && q.UserId == null, ct);
        var (_, use) = await new SnapshotReader(db, backends, Defaults, clock).ReadUseAsync(ct);
        return new AccountJobQuotasResponse(account.Id, account.Name, row is null, row is null ? JobQuotaValues.Of(Defaults) : JobQuotaValues.Of(row),
            row?.Weight ?? Defaults.Weight, use.GetValueOrDefault(accountId) ?? JobQuotaUse.Zero);
    }

    /// <summary>For platform admins (the caller checks). Lowering a quota stops nothing: it holds back the next admission.</summary>
    public async Task<Result<AccountJobQuotasResponse>> SetAccountAsync(Guid accountId, UpdateJobQuotasRequest request, CancellationToken ct = default)
    {
        var errors = Validate(request.Values, ceiling: null);
        if (request.Weight is { } w && (!double.IsFinite(w) || w <= 0 || w > 1000))
        {
            errors.Add("weight", "The weight is more than 0 and at most 1000 (1 is an ordinary share; 2 gets twice the time).");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        if (!await db.Accounts.AnyAsync(a => a.Id == accountId, ct))
        {
            return Error.NotFound("Account");
        }

        await UpsertAsync(accountId, null, request.Values, request.Weight, ct);
        return await GetAccountAsync(accountId, ct);
    }

    /// <summary>A member's quotas in the account, for its masters (others: not found or forbidden as the account says).</summary>
    public async Task<Result<MemberJobQuotasResponse>> GetMemberAsync(Guid callerId, Guid accountId, Guid memberId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Master, ct);
        return access.IsSuccess ? await DescribeMemberAsync(accountId, memberId, ct) : access.Error!;
    }

    /// <summary>A master sets a member's quotas; none may be above the account's.</summary>
    public async Task<Result<MemberJobQuotasResponse>> SetMemberAsync(
        Guid callerId, Guid accountId, Guid memberId, UpdateJobQuotasRequest request, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        if (!await db.Memberships.AnyAsync(m => m.AccountId == accountId && m.UserId == memberId, ct))
        {
            return Error.NotFound("Member");
        }

        var errors = Validate(request.Values, await AccountLimitsAsync(accountId, ct));
        if (request.Weight is not null)
        {
            errors.Add("weight", "The fair-share weight belongs to the account (set by platform admins), not to a member.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        await UpsertAsync(accountId, memberId, request.Values, null, ct);
        return await DescribeMemberAsync(accountId, memberId, ct);
    }

    /// <summary>Every account of the caller: the limits that apply to the caller there and what is used.</summary>
    public async Task<MyJobQuotasResponse> GetMineAsync(Guid userId, CancellationToken ct = default)
    {
        var memberships = await db.Memberships.AsNoTracking().Where(m => m.UserId == userId).OrderBy(m => m.Account!.Name)
            .Select(m => new { m.AccountId, m.Account!.Name }).ToListAsync(ct);
        var accountIds = memberships.Select(m => m.AccountId).ToList();
        var rows = await db.JobQuotas.AsNoTracking().Where(q => accountIds.Contains(q.AccountId) && (q.UserId == null || q.UserId == userId)).ToListAsync(ct);
        var (members, totals) = await new SnapshotReader(db, backends, Defaults, clock).ReadUseAsync(ct);
        var result = new List<MyAccountJobQuotas>();
        foreach (var m in memberships)
        {
            var accountRow = rows.FirstOrDefault(q => q.AccountId == m.AccountId && q.UserId == null);
            var memberRow = rows.FirstOrDefault(q => q.AccountId == m.AccountId && q.UserId == userId);
            var accountLimits = accountRow is null ? JobQuotaValues.Of(Defaults) : JobQuotaValues.Of(accountRow);
            var effective = memberRow is null ? accountLimits : JobQuotaValues.Of(memberRow).Min(accountLimits);
            result.Add(new MyAccountJobQuotas(m.AccountId, m.Name, effective, accountLimits,
                members.GetValueOrDefault((m.AccountId, userId)) ?? JobQuotaUse.Zero, totals.GetValueOrDefault(m.AccountId) ?? JobQuotaUse.Zero));
        }

        return new MyJobQuotasResponse(result);
    }

    /// <summary>The account's limits: its row, or the platform's defaults.</summary>
    public async Task<JobQuotaValues> AccountLimitsAsync(Guid accountId, CancellationToken ct) =>
        await db.JobQuotas.AsNoTracking().FirstOrDefaultAsync(q => q.AccountId == accountId && q.UserId == null, ct) is { } row
            ? JobQuotaValues.Of(row)
            : JobQuotaValues.Of(Defaults);

    private async Task<Result<MemberJobQuotasResponse>> DescribeMemberAsync(Guid accountId, Guid memberId, CancellationToken ct)
    {
        if (!await db.Memberships.AnyAsync(m => m.AccountId == accountId && m.UserId == memberId, ct))
        {
            return Error.NotFound("Member");
        }

        var row = await db.JobQuotas.AsNoTracking().FirstOrDefaultAsync(q => q.AccountId == accountId && q.UserId == memberId, ct);
        var (members, _) = await new SnapshotReader(db, backends, Defaults, clock).ReadUseAsync(ct);
        return new MemberJobQuotasResponse(accountId, memberId, row is null ? JobQuotaValues.None : JobQuotaValues.Of(row),
            await AccountLimitsAsync(accountId, ct), members.GetValueOrDefault((accountId, memberId)) ?? JobQuotaUse.Zero);
    }

    private async Task UpsertAsync(Guid accountId, Guid? userId, JobQuotaValues v, double? weight, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // One row per (account, user) with NULLS NOT DISTINCT: the insert or the update, atomically.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "JobQuotas" ("AccountId", "UserId", "MaxRunningJobs", "MaxCpus", "MaxGpus", "CpuHoursPerDay", "CpuHoursPerWeek",
                "CpuHoursPerMonth", "GpuHoursPerDay", "GpuHoursPerWeek", "GpuHoursPerMonth", "Weight", "UpdatedAt")
            VALUES ({accountId}, {userId}, {v.MaxRunningJobs}, {v.MaxCpus}, {v.MaxGpus}, {v.CpuHoursPerDay}, {v.CpuHoursPerWeek},
                {v.CpuHoursPerMonth}, {v.GpuHoursPerDay}, {v.GpuHoursPerWeek}, {v.GpuHoursPerMonth}, {weight}, {now})
            ON CONFLICT ("AccountId", "UserId") DO UPDATE SET
                "MaxRunningJobs" = excluded."MaxRunningJobs", "MaxCpus" = excluded."MaxCpus", "MaxGpus" = excluded."MaxGpus",
                "CpuHoursPerDay" = excluded."CpuHoursPerDay", "CpuHoursPerWeek" = excluded."CpuHoursPerWeek", "CpuHoursPerMonth" = excluded."CpuHoursPerMonth",
                "GpuHoursPerDay" = excluded."GpuHoursPerDay", "GpuHoursPerWeek" = excluded."GpuHoursPerWeek", "GpuHoursPerMonth" = excluded."GpuHoursPerMonth",
                "Weight" = excluded."Weight", "UpdatedAt" = excluded."UpdatedAt"
            """, ct);
    }

    /// <summary>Field names as on the wire (camelCase) with the message beside each; above the ceiling names the ceiling.</summary>
    private static FieldErrors Validate(JobQuotaValues v, JobQuotaValues? ceiling)
    {
        var errors = new FieldErrors();
        void Count(string field, double? value, double? max, string unit)
        {
            if (value is { } x && (!double.IsFinite(x) || x < 0 || x > MaxHours))
            {
                errors.Add(field, $"A limit is zero or more (at most {MaxHours.ToString("0", CultureInfo.InvariantCulture)}); leave it empty for no limit.");
            }
            else if (value is { } y && max is { } m && y > m + 1e-9)
            {
                errors.Add(field, $"The account allows at most {Number(m)} {unit}; a member's limit cannot be higher.");
            }
        }

        Count("maxRunningJobs", v.MaxRunningJobs, ceiling?.MaxRunningJobs, "running jobs");
        Count("maxCpus", v.MaxCpus, ceiling?.MaxCpus, "CPUs");
        Count("maxGpus", v.MaxGpus, ceiling?.MaxGpus, "GPUs");
        Count("cpuHoursPerDay", v.CpuHoursPerDay, ceiling?.CpuHoursPerDay, "CPU-hours per day");
        Count("cpuHoursPerWeek", v.CpuHoursPerWeek, ceiling?.CpuHoursPerWeek, "CPU-hours per week");
        Count("cpuHoursPerMonth", v.CpuHoursPerMonth, ceiling?.CpuHoursPerMonth, "CPU-hours per month");
        Count("gpuHoursPerDay", v.GpuHoursPerDay, ceiling?.GpuHoursPerDay, "GPU-hours per day");
        Count("gpuHoursPerWeek", v.GpuHoursPerWeek, ceiling?.GpuHoursPerWeek, "GPU-hours per week");
        Count("gpuHoursPerMonth", v.GpuHoursPerMonth, ceiling?.GpuHoursPerMonth, "GPU-hours per month");
        return errors;
    }

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
