using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Indexes for the job list's keyset pages: one owner's jobs by time without a state, and by name.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121205000_JobListIndexes")]
public sealed class JobListIndexes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121205000_JobListIndexes.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var index in new[] { "IX_Jobs_OwnerUserId_SubmittedAt_Id", "IX_Jobs_OwnerUserId_Name_Id", "IX_Jobs_AccountId_Name_Id" })
        {
            migrationBuilder.DropIndex(index, "Jobs");
        }
    }
}
