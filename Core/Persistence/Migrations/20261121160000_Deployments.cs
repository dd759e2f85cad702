using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Deployments (desired and observed state, backend state, lease) and their events.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121160000_Deployments")]
public sealed class Deployments : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121160000_Deployments.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("DeploymentEvents");
        migrationBuilder.DropTable("Deployments");
    }
}
