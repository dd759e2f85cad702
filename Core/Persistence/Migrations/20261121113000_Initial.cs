using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Identity, accounts, memberships, invitations, access keys, the mail outbox, settings, heartbeats, data-protection keys.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121113000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121113000_Initial.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in new[]
        {
            "AccessKeys", "Invitations", "Memberships", "Outbox", "Settings", "Heartbeats", "DataProtectionKeys",
            "AspNetUserTokens", "AspNetUserRoles", "AspNetUserLogins", "AspNetUserClaims", "AspNetRoleClaims",
            "AspNetUsers", "AspNetRoles", "Accounts",
        })
        {
            migrationBuilder.DropTable(table);
        }
    }
}
