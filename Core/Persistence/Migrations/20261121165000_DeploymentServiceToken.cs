using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>The protected token Workers use to ask a running IDE about its activity.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121165000_DeploymentServiceToken")]
public sealed class DeploymentServiceToken : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.AddColumn<string>("ServiceTokenProtected", "Deployments", type: "text", nullable: true);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.DropColumn("ServiceTokenProtected", "Deployments");
}
