using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Shares of datasets and models with users and accounts outside the owning account.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121131500_ArtifactShares")]
public sealed class ArtifactShares : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121131500_ArtifactShares.sql"));

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("ArtifactShares");
}
