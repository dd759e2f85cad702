using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Resumable uploads into a draft: the open multipart uploads and the parts each has received.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121151000_Uploads")]
public sealed class Uploads : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121151000_Uploads.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("UploadParts");
        migrationBuilder.DropTable("Uploads");
    }
}
