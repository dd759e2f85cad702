using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Deployments shared with named users, who may open the IDE but not change the deployment.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121171000_DeploymentShares")]
public sealed class DeploymentShares : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121171000_DeploymentShares.sql"));

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("DeploymentShares");
}
