using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Datasets;

namespace Platform.Core.Persistence;

internal sealed class ArtifactAliasConfiguration : IEntityTypeConfiguration<ArtifactAlias>
{
    public void Configure(EntityTypeBuilder<ArtifactAlias> b)
    {
        b.ToTable("ArtifactAliases");
        b.HasKey(a => new { a.ArtifactId, a.Alias });
        b.Property(a => a.Alias).HasMaxLength(50);
        b.HasOne<Artifact>().WithMany().HasForeignKey(a => a.ArtifactId).OnDelete(DeleteBehavior.Cascade);
        // No action (checked at the end of the statement): deleting the artifact cascades to both its versions and its
        // aliases, while deleting one aliased version alone is refused.
        b.HasOne<ArtifactVersion>().WithMany().HasForeignKey(a => a.VersionId).OnDelete(DeleteBehavior.NoAction);
    }
}
