using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Platform.Core.Persistence.Migrations;

/// <summary>Training boards: runs, their graphs and series, the points (append-heavy) and their downsampled rollups.</summary>
[DbContext(typeof(PlatformDbContext))]
[Migration("20261121210000_Metrics")]
public sealed class Metrics : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql(MigrationScripts.Read("20261121210000_Metrics.sql"));

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP TRIGGER \"MetricSeries_DeleteData\" ON \"MetricSeries\"; DROP FUNCTION \"DeleteMetricSeriesData\"();");
        foreach (var table in new[] { "MetricRollups", "MetricPoints", "RunGraphs", "MetricSeries", "Runs" })
        {
            migrationBuilder.DropTable(table);
        }
    }
}
