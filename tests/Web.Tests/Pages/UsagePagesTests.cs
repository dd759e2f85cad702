using System.Net;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;

namespace Platform.Web.Tests.Pages;

/// <summary>The class's first user is the platform admin (registered before any test runs).</summary>
public sealed class UsagePagesTests(AdminPagesTests.AdminFixture app) : IClassFixture<AdminPagesTests.AdminFixture>
{
    private async Task<(Guid UserId, Guid AccountId)> IdsAsync(string email)
    {
        await using var db = app.Web.Db();
        var user = await db.Users.Where(u => u.Email == email).Select(u => new { u.Id, u.CurrentAccountId }).SingleAsync();
        return (user.Id, user.CurrentAccountId!.Value);
    }

    [Fact]
    public async Task TheUsagePage_ShowsLimitsHoursAndWorkloads_WithACsvDownload()
    {
        var user = await app.Web.NewUserAsync();
        var (userId, accountId) = await IdsAsync(user.Email);
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-1);
        var job = new Job
        {
            Id = Guid.CreateVersion7(), AccountId = accountId, OwnerUserId = userId, Name = "resnet-sweep", Command = ["sh"], Backend = "process",
            Observed = JobObserved.Succeeded, SubmittedAt = hour, StartedAt = hour, FinishedAt = hour.AddMinutes(45), UpdatedAt = hour.AddMinutes(45),
        };
        await using (var db = app.Web.Db())
        {
            db.Jobs.Add(job);
            db.UsageRecords.Add(new UsageRecord
            {
                WorkloadKind = WorkloadKind.Job, WorkloadId = job.Id, Hour = hour, AccountId = accountId, UserId = userId,
                CpuSeconds = 5400, GpuSeconds = 2700, MemoryMiBSeconds = 1024 * 2700,
            });
            await db.SaveChangesAsync();
        }

        var page = await user.GetAsync("/Usage?window=day");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("1.5 CPU-hours", page.Text);
        Assert.Contains("0.75 GPU-hours", page.Text);
        Assert.Contains("Running jobs", page.Text);
        Assert.Contains("CPU-hours today", page.Text);
        Assert.Matches($"<a href=\"/Jobs/{job.Id}\">resnet-sweep</a>", page.Html);
        Assert.Contains("id=\"usage-chart\"", page.Html);
        Assert.Contains("/lib/plotly/plotly.min.js", page.Html);
        Assert.Contains("href=\"/Usage\"", page.Html);

        var csv = await user.GetAsync($"/Usage?handler=Csv&window=day&scope=me&accountId={accountId}");
        Assert.Equal(HttpStatusCode.OK, csv.Status);
        Assert.StartsWith("bucket_start,kind,workload_id,name,user,cpu_hours,gpu_hours,memory_gib_hours\n", csv.Html);
        Assert.Contains($",job,{job.Id},resnet-sweep,", csv.Html);

        var bad = await user.GetAsync("/Usage?window=year");
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("window must be day, week or month.", bad.Text);

        var stranger = await app.Web.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Usage?accountId={accountId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Usage?handler=Csv&accountId={accountId}")).Status);
        Assert.DoesNotContain("resnet-sweep", (await stranger.GetAsync("/Usage?window=day&scope=account")).Html);
    }

    [Fact]
    public async Task TheInfrastructurePage_ShowsTheNodes_ToAdminsOnly()
    {
        var page = await app.Admin.GetAsync("/Admin/Infrastructure");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("CPUs reserved", page.Text);
        Assert.Contains("Memory in use now", page.Text);
        Assert.Contains($"data-node=\"{Environment.MachineName}\"", page.Html);
        var json = await app.Admin.GetAsync("/Admin/Infrastructure?handler=Nodes");
        Assert.Equal(HttpStatusCode.OK, json.Status);
        Assert.Contains("\"cpuPercent\":", json.Html);

        var user = await app.Web.NewUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/Admin/Infrastructure")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/Admin/Infrastructure?handler=Nodes")).Status);
    }
}
