using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Accounts;
using Platform.Core.Jobs;

namespace Platform.Core.Persistence;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> b)
    {
        b.ToTable("Jobs");
        b.Property(j => j.Name).HasMaxLength(100).IsRequired();
        b.Property(j => j.Type).HasConversion<string>().HasMaxLength(16);
        b.Property(j => j.Module).HasMaxLength(100);
        b.Property(j => j.Image).HasMaxLength(300);
        b.Property(j => j.Options).HasColumnType("jsonb").IsRequired();
        b.Property(j => j.Code).HasMaxLength(200);
        b.Property(j => j.OutputModel).HasMaxLength(100);
        b.Property(j => j.Desired).HasConversion<string>().HasMaxLength(16);
        b.Property(j => j.Observed).HasConversion<string>().HasMaxLength(16);
        b.Property(j => j.Reason).HasMaxLength(4000);
        b.Property(j => j.QueueReason).HasMaxLength(500);
        b.Property(j => j.Backend).HasMaxLength(32).IsRequired();
        b.Property(j => j.LeaseOwner).HasMaxLength(100);
        b.Property(j => j.ProgressMessage).HasMaxLength(200);
        // The dashboard's keyset pages: an account's jobs newest first, and one owner's by state.
        b.HasIndex(j => new { j.AccountId, j.SubmittedAt, j.Id }).IsDescending(false, true, true);
        b.HasIndex(j => new { j.OwnerUserId, j.Observed, j.SubmittedAt }).IsDescending(false, false, true);
        // The list's other keyset orders (migration 20261121205000): an owner's jobs newest first, and by name.
        b.HasIndex(j => new { j.OwnerUserId, j.SubmittedAt, j.Id }).IsDescending(false, true, true);
        b.HasIndex(j => new { j.OwnerUserId, j.Name, j.Id });
        b.HasIndex(j => new { j.AccountId, j.Name, j.Id });
        // The scheduler reads the queue, the reconciler what is due; both are small slices of a long history.
        b.HasIndex(j => j.SubmittedAt).HasFilter("\"Observed\" = 'Queued'").HasDatabaseName("IX_Jobs_Queued");
        b.HasIndex(j => j.NextCheckAt).HasFilter("\"Observed\" IN ('Starting', 'Running', 'Stopping')").HasDatabaseName("IX_Jobs_Active");
        b.HasOne<Account>().WithMany().HasForeignKey(j => j.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(j => j.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobReplicaConfiguration : IEntityTypeConfiguration<JobReplica>
{
    public void Configure(EntityTypeBuilder<JobReplica> b)
    {
        b.ToTable("JobReplicas");
        b.HasKey(r => new { r.JobId, r.Role, r.Index });
        b.Property(r => r.Role).HasConversion<string>().HasMaxLength(16);
        b.Property(r => r.Observed).HasConversion<string>().HasMaxLength(16);
        b.Property(r => r.Node).HasMaxLength(100);
        b.Property(r => r.BackendState).HasColumnType("jsonb");
        b.Property(r => r.Reason).HasMaxLength(4000);
        b.Property(r => r.LogState).HasConversion<string>().HasMaxLength(16);
        // The log shipper's candidates: replicas whose logs may still grow (a small set among all replicas ever run).
        b.HasIndex(r => r.LogState).HasFilter("\"LogState\" <> 'Complete'");
        b.Ignore(r => r.Label);
        b.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobEventConfiguration : IEntityTypeConfiguration<JobEvent>
{
    public void Configure(EntityTypeBuilder<JobEvent> b)
    {
        b.ToTable("JobEvents");
        b.Property(e => e.State).HasMaxLength(16).IsRequired();
        b.Property(e => e.Message).HasMaxLength(4000).IsRequired();
        b.HasIndex(e => new { e.JobId, e.Id });
        b.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobLogChunkConfiguration : IEntityTypeConfiguration<JobLogChunk>
{
    public void Configure(EntityTypeBuilder<JobLogChunk> b)
    {
        b.ToTable("JobLogChunks");
        b.HasKey(c => new { c.JobId, c.Role, c.Index, c.Seq });
        b.Property(c => c.Role).HasConversion<string>().HasMaxLength(16);
        b.Property(c => c.ObjectKey).HasMaxLength(300).IsRequired();
        b.HasOne<Job>().WithMany().HasForeignKey(c => c.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UsageSampleConfiguration : IEntityTypeConfiguration<UsageSample>
{
    public void Configure(EntityTypeBuilder<UsageSample> b)
    {
        b.ToTable("UsageSamples");
        b.HasKey(s => new { s.WorkloadKind, s.WorkloadId, s.Replica, s.Minute });
        b.Property(s => s.WorkloadKind).HasConversion<string>().HasMaxLength(16);
        b.Property(s => s.Replica).HasMaxLength(32);
    }
}

internal sealed class UsageRecordConfiguration : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> b)
    {
        b.ToTable("UsageRecords");
        b.HasKey(r => new { r.WorkloadKind, r.WorkloadId, r.Hour });
        b.Property(r => r.WorkloadKind).HasConversion<string>().HasMaxLength(16);
        // Budgets and the usage page sum an account's (or a user's) hours over a window.
        b.HasIndex(r => new { r.AccountId, r.Hour });
        b.HasIndex(r => new { r.UserId, r.Hour });
        b.HasOne<Account>().WithMany().HasForeignKey(r => r.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobQuotaConfiguration : IEntityTypeConfiguration<JobQuota>
{
    public void Configure(EntityTypeBuilder<JobQuota> b)
    {
        b.ToTable("JobQuotas");
        b.HasIndex(q => new { q.AccountId, q.UserId }).IsUnique().AreNullsDistinct(false);
        b.HasOne<Account>().WithMany().HasForeignKey(q => q.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(q => q.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
