using Platform.Core.Jobs;

namespace Platform.Web.Pages.Shared;

/// <summary>The job quota form's fields, named as Core names them so field errors land beside their input.</summary>
public sealed class JobQuotaInput
{
    public int? MaxRunningJobs { get; set; }
    public double? MaxCpus { get; set; }
    public int? MaxGpus { get; set; }
    public double? CpuHoursPerDay { get; set; }
    public double? CpuHoursPerWeek { get; set; }
    public double? CpuHoursPerMonth { get; set; }
    public double? GpuHoursPerDay { get; set; }
    public double? GpuHoursPerWeek { get; set; }
    public double? GpuHoursPerMonth { get; set; }
    public double? Weight { get; set; }

    public static JobQuotaInput From(JobQuotaValues v, double? weight = null) => new()
    {
        MaxRunningJobs = v.MaxRunningJobs, MaxCpus = v.MaxCpus, MaxGpus = v.MaxGpus, CpuHoursPerDay = v.CpuHoursPerDay,
        CpuHoursPerWeek = v.CpuHoursPerWeek, CpuHoursPerMonth = v.CpuHoursPerMonth, GpuHoursPerDay = v.GpuHoursPerDay,
        GpuHoursPerWeek = v.GpuHoursPerWeek, GpuHoursPerMonth = v.GpuHoursPerMonth, Weight = weight,
    };

    public UpdateJobQuotasRequest ToRequest(bool withWeight) => new(MaxRunningJobs, MaxCpus, MaxGpus, CpuHoursPerDay, CpuHoursPerWeek,
        CpuHoursPerMonth, GpuHoursPerDay, GpuHoursPerWeek, GpuHoursPerMonth, withWeight ? Weight : null);
}
