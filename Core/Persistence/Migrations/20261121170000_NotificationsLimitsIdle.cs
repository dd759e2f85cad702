using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>In-app notifications, per-user caps (set by admins on users, by masters on memberships), and idle culling.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121170000_NotificationsLimitsIdle")]
public sealed class NotificationsLimitsIdle : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121170000_NotificationsLimitsIdle.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("Notifications");
        foreach (var table in new[] { "AspNetUsers", "Memberships" })
        {
            migrationBuilder.DropColumn("MaxDeployments", table);
            migrationBuilder.DropColumn("MaxCpus", table);
            migrationBuilder.DropColumn("MaxGpus", table);
        }

        migrationBuilder.DropColumn("IdleCullMinutes", "Accounts");
        migrationBuilder.DropColumn("IdleWarningMinutes", "Accounts");
        migrationBuilder.DropColumn("IdleWarnedAt", "Deployments");
    }
}
