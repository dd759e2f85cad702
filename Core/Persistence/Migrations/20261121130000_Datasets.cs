using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Datasets and models (artifacts, their versions and files) and the per-account storage quota.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121130000_Datasets")]
public sealed class Datasets : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121130000_Datasets.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ArtifactFiles");
        migrationBuilder.DropTable("ArtifactVersions");
        migrationBuilder.DropTable("Artifacts");
        migrationBuilder.DropColumn("StorageQuotaBytes", "Accounts");
    }
}
