using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>The runs of jobs and deployments that usage accounting recomputes its hourly records from.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121204000_UsageIntervals")]
public sealed class UsageIntervals : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121204000_UsageIntervals.sql"));

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.DropTable("UsageIntervals");
}
