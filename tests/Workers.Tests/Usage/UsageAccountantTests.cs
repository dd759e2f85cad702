using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Workers.Tests.Deployments;

namespace Platform.Workers.Tests.Usage;

public sealed class UsageAccountantTests
{
    [Fact]
    public async Task Workers_AccountARunningJob_AndCloseItsLastHour_SoonAfterItsNotify()
    {
        var database = await DeploymentHost.NewDatabaseAsync("usage_host");
        Guid job;
        var admitted = DateTimeOffset.UtcNow.AddMinutes(-30);
        await using (var db = DatabaseMigrator.CreateContext(database))
        {
            var owner = await UsageSeed.UserAsync(db, "ken");
            job = await UsageSeed.RunningJobAsync(db, owner, admitted, (ReplicaRole.Trainer, 2, 0, 512, null));
            // Not due for the job reconciler: this test is about accounting only.
            await db.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s.SetProperty(j => j.NextCheckAt, DateTimeOffset.UtcNow.AddDays(1)));
        }

        var workspaces = Path.Combine(Path.GetTempPath(), $"usage-host-{Guid.NewGuid():N}");
        // A pass at start, then only every 10 minutes: a quick close can only come from the NOTIFY.
        await using var host = new DeploymentHost(database, workspaces, new Dictionary<string, string> { ["Platform:Usage:AccountingInterval"] = "00:10:00" });
        _ = host.Server;

        await using var db2 = DatabaseMigrator.CreateContext(database);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<UsageRecord> records = [];
        while (DateTime.UtcNow < deadline && records.Count == 0)
        {
            await Task.Delay(200);
            records = await UsageSeed.RecordsAsync(db2, job);
        }

        var seconds = records.Sum(r => r.CpuSeconds) / 2;
        Assert.InRange(seconds, 1800 - 1, 1800 + 60);

        var finished = DateTimeOffset.UtcNow;
        await db2.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Observed, JobObserved.Succeeded).SetProperty(j => j.FinishedAt, finished));
        await db2.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({JobService.Channel}, {job.ToString()})");
        deadline = DateTime.UtcNow.AddSeconds(30);
        DateTimeOffset? ended = null;
        while (DateTime.UtcNow < deadline && ended is null)
        {
            await Task.Delay(200);
            ended = await db2.UsageIntervals.AsNoTracking().Where(i => i.WorkloadId == job).Select(i => i.EndedAt).SingleAsync();
        }

        Assert.NotNull(ended);
        var total = (await UsageSeed.RecordsAsync(db2, job)).Sum(r => r.CpuSeconds);
        Assert.Equal(2 * (ended.Value - admitted).TotalSeconds, total, 1);
        if (Directory.Exists(workspaces))
        {
            Directory.Delete(workspaces, recursive: true);
        }
    }
}
