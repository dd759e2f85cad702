using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Accounts;
using Platform.Core.Deployments;

namespace Platform.Core.Persistence;

internal sealed class DeploymentConfiguration : IEntityTypeConfiguration<Deployment>
{
    public void Configure(EntityTypeBuilder<Deployment> b)
    {
        b.ToTable("Deployments");
        b.Property(d => d.Module).HasMaxLength(100).IsRequired();
        b.Property(d => d.Title).HasMaxLength(100).IsRequired();
        b.Property(d => d.Description).HasMaxLength(4000);
        b.Property(d => d.Service).HasConversion<string>().HasMaxLength(16);
        b.Property(d => d.ImageTag).HasMaxLength(100);
        b.Property(d => d.Image).HasMaxLength(300);
        b.Property(d => d.Template).HasConversion<string>().HasMaxLength(16);
        b.Property(d => d.Desired).HasConversion<string>().HasMaxLength(16);
        b.Property(d => d.Observed).HasConversion<string>().HasMaxLength(16);
        b.Property(d => d.Reason).HasMaxLength(4000);
        b.Property(d => d.Backend).HasMaxLength(32).IsRequired();
        b.Property(d => d.BackendState).HasColumnType("jsonb");
        b.Property(d => d.Address).HasMaxLength(200);
        b.Property(d => d.LeaseOwner).HasMaxLength(100);
        b.HasIndex(d => new { d.AccountId, d.CreatedAt });
        b.HasIndex(d => d.OwnerUserId);
        b.HasIndex(d => d.NextCheckAt);
        b.HasOne<Account>().WithMany().HasForeignKey(d => d.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(d => d.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DeploymentEventConfiguration : IEntityTypeConfiguration<DeploymentEvent>
{
    public void Configure(EntityTypeBuilder<DeploymentEvent> b)
    {
        b.ToTable("DeploymentEvents");
        b.Property(e => e.State).HasMaxLength(16).IsRequired();
        b.Property(e => e.Message).HasMaxLength(4000).IsRequired();
        b.HasIndex(e => new { e.DeploymentId, e.Id });
        b.HasOne<Deployment>().WithMany().HasForeignKey(e => e.DeploymentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DeploymentShareConfiguration : IEntityTypeConfiguration<DeploymentShare>
{
    public void Configure(EntityTypeBuilder<DeploymentShare> b)
    {
        b.ToTable("DeploymentShares");
        b.HasKey(s => new { s.DeploymentId, s.UserId });
        b.HasIndex(s => s.UserId);
        b.HasOne<Deployment>().WithMany().HasForeignKey(s => s.DeploymentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
