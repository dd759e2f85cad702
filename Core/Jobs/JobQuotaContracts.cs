namespace Platform.Core.Jobs;

/// <summary>
/// The platform's job quotas for accounts that have none of their own (<c>Platform:Jobs:Quotas</c>); a null is no
/// limit. Admins set an account's own row (<see cref="JobQuota"/>), which then replaces these as a whole.
/// </summary>
public sealed class JobQuotaOptions
{
    public const string Section = "Platform:Jobs:Quotas";

    public int? MaxRunningJobs { get; set; }
    public double? MaxCpus { get; set; }
    public int? MaxGpus { get; set; }
    public double? CpuHoursPerDay { get; set; }
    public double? CpuHoursPerWeek { get; set; }
    public double? CpuHoursPerMonth { get; set; }
    public double? GpuHoursPerDay { get; set; }
    public double? GpuHoursPerWeek { get; set; }
    public double? GpuHoursPerMonth { get; set; }

    /// <summary>Fair-share weight of an account without its own.</summary>
    public double Weight { get; set; } = 1;

    /// <summary>How far back fair share looks at what each account used.</summary>
    public TimeSpan FairShareWindow { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Limits on jobs at one level (an account, or a member in it); a null field is no limit at that level.</summary>
public sealed record JobQuotaValues(
    int? MaxRunningJobs = null,
    double? MaxCpus = null,
    int? MaxGpus = null,
    double? CpuHoursPerDay = null,
    double? CpuHoursPerWeek = null,
    double? CpuHoursPerMonth = null,
    double? GpuHoursPerDay = null,
    double? GpuHoursPerWeek = null,
    double? GpuHoursPerMonth = null)
{
    public static JobQuotaValues None { get; } = new();

    public static JobQuotaValues Of(JobQuota q) => new(q.MaxRunningJobs, q.MaxCpus, q.MaxGpus, q.CpuHoursPerDay, q.CpuHoursPerWeek,
        q.CpuHoursPerMonth, q.GpuHoursPerDay, q.GpuHoursPerWeek, q.GpuHoursPerMonth);

    public static JobQuotaValues Of(JobQuotaOptions o) => new(o.MaxRunningJobs, o.MaxCpus, o.MaxGpus, o.CpuHoursPerDay, o.CpuHoursPerWeek,
        o.CpuHoursPerMonth, o.GpuHoursPerDay, o.GpuHoursPerWeek, o.GpuHoursPerMonth);

    /// <summary>The tighter of two levels, field by field (a member's limits under the account's).</summary>
    public JobQuotaValues Min(JobQuotaValues other) => new(
        Lower(MaxRunningJobs, other.MaxRunningJobs), Lower(MaxCpus, other.MaxCpus), Lower(MaxGpus, other.MaxGpus),
        Lower(CpuHoursPerDay, other.CpuHoursPerDay), Lower(CpuHoursPerWeek, other.CpuHoursPerWeek), Lower(CpuHoursPerMonth, other.CpuHoursPerMonth),
        Lower(GpuHoursPerDay, other.GpuHoursPerDay), Lower(GpuHoursPerWeek, other.GpuHoursPerWeek), Lower(GpuHoursPerMonth, other.GpuHoursPerMonth));

    private static T? Lower<T>(T? a, T? b) where T : struct, IComparable<T> =>
        a is null ? b : b is null ? a : a.Value.CompareTo(b.Value) <= 0 ? a : b;
}

/// <summary>
/// New limits for an account (admins) or a member (masters): every field as given, null clears it (no limit at that
/// level). <see cref="Weight"/> is the account's fair-share weight (accounts only; null: the platform's).
/// </summary>
public sealed record UpdateJobQuotasRequest(
    int? MaxRunningJobs = null,
    double? MaxCpus = null,
    int? MaxGpus = null,
    double? CpuHoursPerDay = null,
    double? CpuHoursPerWeek = null,
    double? CpuHoursPerMonth = null,
    double? GpuHoursPerDay = null,
    double? GpuHoursPerWeek = null,
    double? GpuHoursPerMonth = null,
    double? Weight = null)
{
    public JobQuotaValues Values => new(MaxRunningJobs, MaxCpus, MaxGpus, CpuHoursPerDay, CpuHoursPerWeek, CpuHoursPerMonth,
        GpuHoursPerDay, GpuHoursPerWeek, GpuHoursPerMonth);
}

/// <summary>
/// What counts against job quotas now: jobs holding resources (starting, running, stopping) with their CPUs and GPUs,
/// and CPU-/GPU-hours in the current day (since 00:00 UTC), week (since Monday 00:00 UTC) and month (since the 1st).
/// </summary>
public sealed record JobQuotaUse(
    int RunningJobs,
    double Cpus,
    int Gpus,
    double CpuHoursToday,
    double CpuHoursThisWeek,
    double CpuHoursThisMonth,
    double GpuHoursToday,
    double GpuHoursThisWeek,
    double GpuHoursThisMonth)
{
    public static JobQuotaUse Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>
/// An account's job quotas as admins see them: what is set on it (<see cref="IsDefault"/>: nothing, the platform's
/// defaults apply), its fair-share weight, and what the account uses now.
/// </summary>
public sealed record AccountJobQuotasResponse(
    Guid AccountId, string AccountName, bool IsDefault, JobQuotaValues Limits, double Weight, JobQuotaUse Use);

/// <summary>A member's own job quotas in an account (set by its masters), the account's above them, and the member's use.</summary>
public sealed record MemberJobQuotasResponse(
    Guid AccountId, Guid UserId, JobQuotaValues Limits, JobQuotaValues AccountLimits, JobQuotaUse Use);

/// <summary>One account of the caller: the limits that apply to the caller there (the tighter of member and account), the
/// account's, what the caller uses and what the whole account uses.</summary>
public sealed record MyAccountJobQuotas(
    Guid AccountId, string AccountName, JobQuotaValues Effective, JobQuotaValues AccountLimits, JobQuotaUse Mine, JobQuotaUse Account);

public sealed record MyJobQuotasResponse(IReadOnlyList<MyAccountJobQuotas> Accounts);
