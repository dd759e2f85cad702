using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Where each replica's log shipping stands (<c>JobReplicas.LogState</c>), with the shipper's partial index.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121203000_JobLogState")]
public sealed class JobLogState : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121203000_JobLogState.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex("IX_JobReplicas_LogState", "JobReplicas");
        migrationBuilder.DropColumn("LogState", "JobReplicas");
    }
}
