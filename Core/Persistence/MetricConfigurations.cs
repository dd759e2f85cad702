using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Accounts;
using Platform.Core.Jobs;
using Platform.Core.Metrics;

namespace Platform.Core.Persistence;

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> b)
    {
        b.ToTable("Runs");
        b.Property(r => r.Name).HasMaxLength(200).IsRequired();
        b.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
        // A job has one run; the runs list pages by owner and by account, newest activity first.
        b.HasIndex(r => r.JobId).IsUnique().HasFilter("\"JobId\" IS NOT NULL");
        b.HasIndex(r => new { r.OwnerUserId, r.UpdatedAt, r.Id }).IsDescending(false, true, true);
        b.HasIndex(r => new { r.AccountId, r.UpdatedAt, r.Id }).IsDescending(false, true, true);
        b.HasOne<Account>().WithMany().HasForeignKey(r => r.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(r => r.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunGraphConfiguration : IEntityTypeConfiguration<RunGraph>
{
    public void Configure(EntityTypeBuilder<RunGraph> b)
    {
        b.ToTable("RunGraphs");
        b.HasKey(g => new { g.RunId, g.Title });
        b.Property(g => g.Title).HasMaxLength(200);
        b.HasOne<Run>().WithMany().HasForeignKey(g => g.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MetricSeriesConfiguration : IEntityTypeConfiguration<MetricSeries>
{
    public void Configure(EntityTypeBuilder<MetricSeries> b)
    {
        b.ToTable("MetricSeries");
        b.Property(s => s.Name).HasMaxLength(200).IsRequired();
        b.HasIndex(s => new { s.RunId, s.Name }).IsUnique();
        b.HasOne<Run>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> b)
    {
        b.ToTable("MetricPoints");
        b.HasKey(p => new { p.SeriesId, p.Step });
    }
}

internal sealed class MetricRollupConfiguration : IEntityTypeConfiguration<MetricRollup>
{
    public void Configure(EntityTypeBuilder<MetricRollup> b)
    {
        b.ToTable("MetricRollups");
        b.HasKey(r => new { r.SeriesId, r.Level, r.Bucket });
    }
}
