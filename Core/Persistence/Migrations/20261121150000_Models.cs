using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Models: metadata columns on artifacts (framework, format, schemas, metrics, source job) and version aliases.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121150000_Models")]
public sealed class Models : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121150000_Models.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ArtifactAliases");
        foreach (var column in new[] { "Framework", "Format", "InputSchema", "OutputSchema", "Metrics", "SourceJobId" })
        {
            migrationBuilder.DropColumn(column, "Artifacts");
        }
    }
}
