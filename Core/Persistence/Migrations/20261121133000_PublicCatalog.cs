using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Datasets and models published to the public catalog.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121133000_PublicCatalog")]
public sealed class PublicCatalog : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121133000_PublicCatalog.sql"));

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropColumn("IsPublic", "Artifacts");
}
