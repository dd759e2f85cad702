using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;
using Platform.Workers.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>Finished jobs' folders go after the retention period, once their logs are shipped; nothing else goes.</summary>
public sealed class JobRetentionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-jobs-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task OldFinishedJobs_AndOrphanFolders_AreRemoved_RecentOnesAndUnshippedLogsAreKept()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobretention"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("ret");
        var ids = new List<Guid>();
        foreach (var name in new[] { "old", "recent", "old but shipping" })
        {
            var id = await host.SubmitAsync(userId, new SubmitJobRequest(Name: name, Command: ["sh", "-c", "echo done > output/result.txt"]));
            await host.AdmitAsync(id);
            await host.WaitForAsync(id, (j, _) => j.Observed == JobObserved.Succeeded);
            ids.Add(id);
        }

        var (old, recent, shipping) = (ids[0], ids[1], ids[2]);
        await using (var db = await host.DbAsync())
        {
            await db.Jobs.Where(j => j.Id == old || j.Id == shipping).ExecuteUpdateAsync(s => s.SetProperty(j => j.FinishedAt, DateTimeOffset.UtcNow.AddDays(-8)));
            await db.JobReplicas.Where(r => r.JobId == shipping).ExecuteUpdateAsync(s => s.SetProperty(r => r.LogState, JobLogState.Shipping));
        }

        // Folders of jobs that no longer exist: one as old as the retention, one fresh (perhaps another platform's).
        var orphanOld = Guid.NewGuid();
        var orphanNew = Guid.NewGuid();
        foreach (var orphan in new[] { orphanOld, orphanNew })
        {
            Directory.CreateDirectory(Path.Combine(host.Backend.JobFolderOf(orphan), "work"));
        }

        Directory.SetLastWriteTimeUtc(host.Backend.JobFolderOf(orphanOld), DateTime.UtcNow.AddDays(-10));

        var removed = await host.Services.GetRequiredService<JobRetention>().SweepAsync(default);

        Assert.Equal(new[] { old, orphanOld }.Order(), removed.Order());
        Assert.False(Directory.Exists(host.Backend.JobFolderOf(old)));
        Assert.False(Directory.Exists(host.Backend.JobFolderOf(orphanOld)));
        foreach (var keptId in new[] { recent, shipping, orphanNew })
        {
            Assert.True(Directory.Exists(host.Backend.JobFolderOf(keptId)), $"{keptId} was removed");
        }

        // The job itself, its events and its logs' index stay: only the node's copy went.
        var (row, _) = await host.RowAsync(old);
        Assert.Equal(JobObserved.Succeeded, row.Observed);
        // A second sweep removes nothing twice. (The log shipper of this host may meanwhile finish the "shipping"
        // replica, which makes that job eligible now: that one may go, and only that one.)
        var again = await host.Services.GetRequiredService<JobRetention>().SweepAsync(default);
        Assert.All(again, id => Assert.Equal(shipping, id));
    }
}
