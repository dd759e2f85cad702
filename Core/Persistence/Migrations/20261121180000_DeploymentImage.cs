using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>The image a user names for "Run your own image".</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121180000_DeploymentImage")]
public sealed class DeploymentImage : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.AddColumn<string>("Image", "Deployments", type: "character varying(300)", maxLength: 300, nullable: true);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.DropColumn("Image", "Deployments");
}
