using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Accounts;
using Platform.Core.Datasets;

namespace Platform.Core.Persistence;

internal sealed class ArtifactConfiguration : IEntityTypeConfiguration<Artifact>
{
    public void Configure(EntityTypeBuilder<Artifact> b)
    {
        b.ToTable("Artifacts");
        b.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
        b.Property(a => a.Name).HasMaxLength(100).IsRequired();
        b.Property(a => a.Description).HasMaxLength(4000);
        b.Property(a => a.License).HasMaxLength(100);
        b.Property(a => a.InputSchema).HasColumnType("jsonb");
        b.Property(a => a.OutputSchema).HasColumnType("jsonb");
        b.Property(a => a.Metrics).HasColumnType("jsonb");
        b.HasIndex(a => new { a.AccountId, a.Kind, a.Name }).IsUnique();
        b.HasOne<Account>().WithMany().HasForeignKey(a => a.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ArtifactVersionConfiguration : IEntityTypeConfiguration<ArtifactVersion>
{
    public void Configure(EntityTypeBuilder<ArtifactVersion> b)
    {
        b.ToTable("ArtifactVersions");
        b.Property(v => v.ManifestSha256).HasMaxLength(64);
        b.HasIndex(v => new { v.ArtifactId, v.Number }).IsUnique();
        // One draft per artifact.
        b.HasIndex(v => v.ArtifactId).IsUnique().HasFilter("\"Number\" IS NULL").HasDatabaseName("IX_ArtifactVersions_Draft");
        b.HasOne<Artifact>().WithMany().HasForeignKey(v => v.ArtifactId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ArtifactFileConfiguration : IEntityTypeConfiguration<ArtifactFile>
{
    public void Configure(EntityTypeBuilder<ArtifactFile> b)
    {
        b.ToTable("ArtifactFiles");
        b.HasKey(f => new { f.VersionId, f.Path });
        b.Property(f => f.Path).HasMaxLength(1024).UseCollation("C");
        b.Property(f => f.Sha256).HasMaxLength(64).IsRequired();
        b.Property(f => f.ObjectKey).HasMaxLength(200).IsRequired();
        b.HasIndex(f => f.ObjectKey);
        b.HasOne<ArtifactVersion>().WithMany().HasForeignKey(f => f.VersionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ArtifactShareConfiguration : IEntityTypeConfiguration<ArtifactShare>
{
    public void Configure(EntityTypeBuilder<ArtifactShare> b)
    {
        b.ToTable("ArtifactShares", t => t.HasCheckConstraint("CK_ArtifactShares_OneGrantee",
            "(\"GranteeUserId\" IS NULL) <> (\"GranteeAccountId\" IS NULL)"));
        b.Property(s => s.Access).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(s => new { s.ArtifactId, s.GranteeUserId }).IsUnique().HasFilter("\"GranteeUserId\" IS NOT NULL");
        b.HasIndex(s => new { s.ArtifactId, s.GranteeAccountId }).IsUnique().HasFilter("\"GranteeAccountId\" IS NOT NULL");
        b.HasIndex(s => s.GranteeUserId);
        b.HasIndex(s => s.GranteeAccountId);
        b.HasOne<Artifact>().WithMany().HasForeignKey(s => s.ArtifactId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(s => s.GranteeUserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Account>().WithMany().HasForeignKey(s => s.GranteeAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UploadConfiguration : IEntityTypeConfiguration<Upload>
{
    public void Configure(EntityTypeBuilder<Upload> b)
    {
        b.ToTable("Uploads");
        b.Ignore(u => u.PartCount);
        b.Property(u => u.Path).HasMaxLength(1024).UseCollation("C");
        b.Property(u => u.ObjectKey).HasMaxLength(200).IsRequired();
        b.Property(u => u.StoreUploadId).HasMaxLength(1024).IsRequired();
        b.Property(u => u.Sha256).HasMaxLength(64);
        b.HasIndex(u => u.ArtifactId);
        b.HasIndex(u => u.ExpiresAt);
        b.HasOne<Artifact>().WithMany().HasForeignKey(u => u.ArtifactId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UploadPartConfiguration : IEntityTypeConfiguration<UploadPart>
{
    public void Configure(EntityTypeBuilder<UploadPart> b)
    {
        b.ToTable("UploadParts");
        b.HasKey(p => new { p.UploadId, p.Number });
        b.Property(p => p.ETag).HasMaxLength(200).IsRequired();
        b.HasOne<Upload>().WithMany().HasForeignKey(p => p.UploadId).OnDelete(DeleteBehavior.Cascade);
    }
}
