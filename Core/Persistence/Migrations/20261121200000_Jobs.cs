using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Training jobs with their replicas, events and log index; usage samples and records; job quotas; e-mail opt-in.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121200000_Jobs")]
public sealed class Jobs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121200000_Jobs.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in new[] { "JobQuotas", "UsageRecords", "UsageSamples", "JobLogChunks", "JobEvents", "JobReplicas", "Jobs" })
        {
            migrationBuilder.DropTable(table);
        }

        migrationBuilder.DropColumn("NotifyByEmail", "AspNetUsers");
    }
}
