using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Jobs;

namespace Platform.Core.Usage;

/// <summary>
/// One run of a workload as accounting saw it: from <see cref="StartedAt"/> to <see cref="EndedAt"/> (null while it
/// runs), holding <see cref="Cpus"/>, <see cref="Gpus"/> and <see cref="MemoryMiB"/>. A job has one run; a deployment
/// one per start. The hourly <see cref="UsageRecord"/>s are recomputed from these runs, never incremented, so a pass
/// repeated after a crash writes the same numbers again.
/// </summary>
public sealed class UsageInterval
{
    public WorkloadKind WorkloadKind { get; set; }
    public Guid WorkloadId { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public Guid AccountId { get; set; }
    public Guid UserId { get; set; }
    public double Cpus { get; set; }
    public int Gpus { get; set; }
    public long MemoryMiB { get; set; }
}

internal sealed class UsageIntervalConfiguration : IEntityTypeConfiguration<UsageInterval>
{
    public void Configure(EntityTypeBuilder<UsageInterval> b)
    {
        b.ToTable("UsageIntervals");
        b.HasKey(i => new { i.WorkloadKind, i.WorkloadId, i.StartedAt });
        b.Property(i => i.WorkloadKind).HasConversion<string>().HasMaxLength(16);
        // The accounting pass finishes the runs still open.
        b.HasIndex(i => i.EndedAt).HasFilter("\"EndedAt\" IS NULL").HasDatabaseName("IX_UsageIntervals_Open");
    }
}
