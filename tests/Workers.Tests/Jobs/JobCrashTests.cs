using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// Workers killed mid-run: the replicas (each in a session of its own) live on, a new Workers adopts them by name, and
/// the job converges; no job is lost and no replica launched twice (counted by the launch markers in each log).
/// </summary>
[Trait("Category", "Slow")]
public sealed class JobCrashTests : IDisposable
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
    public async Task WorkersKilledWhileReplicasRun_TheNextWorkersAdoptsThem_AndTheJobSucceedsWithEachReplicaLaunchedOnce()
    {
        var database = await JobHost.NewDatabaseAsync("jobcrash");
        Guid userId, id;
        List<JobReplica> before;
        await using (var first = new JobHost(database, _root))
        {
            _ = first.Server;
            userId = await first.CreateUserAsync("fay");
            id = await first.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("survives", new Dictionary<string, string> { ["sleep"] = "8" }, "survivor"));
            await first.AdmitAsync(id);
            (_, before) = await first.WaitForAsync(id, (j, _) => j.Observed == JobObserved.Running);
        }

        // As a worker killed right after launching: the job back at Starting, no replica recorded, and the dead
        // worker's lease still on the row for two more seconds. Ports stay (they were written before any launch).
        await using (var db = Platform.Core.Persistence.DatabaseMigrator.CreateContext(database))
        {
            await db.JobReplicas.Where(r => r.JobId == id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.BackendState, (string?)null).SetProperty(r => r.Observed, ReplicaObserved.Pending).SetProperty(r => r.StartedAt, (DateTimeOffset?)null));
            await db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Observed, JobObserved.Starting)
                .SetProperty(j => j.LeaseOwner, "killed-worker")
                .SetProperty(j => j.LeaseUntil, DateTimeOffset.UtcNow.AddSeconds(2)));
        }

        await using var second = new JobHost(database, _root);
        _ = second.Server;
        var (job, replicas) = await second.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed), TimeSpan.FromSeconds(90));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.Equal(1, job.OutputModelVersion);
        Assert.Equal(before.Select(r => r.Port), replicas.Select(r => r.Port));
        foreach (var replica in replicas)
        {
            var log = await File.ReadAllTextAsync(second.Backend.LogOf(id, replica.Label));
            Assert.Equal(1, log.Split('\n').Count(line => line.StartsWith(JobScripts.Marker, StringComparison.Ordinal)));
            Assert.Equal(before.Single(b => b.Label == replica.Label).BackendState, replica.BackendState);
        }

        var events = await second.EventsAsync(id);
        Assert.Contains("Starting: launching the replicas (resumed after a worker stopped)", events);
        Assert.Equal(3, events.Count(e => e.StartsWith("Adopted ", StringComparison.Ordinal)));
        Assert.Equal(3, events.Count(e => e.StartsWith("Launched ", StringComparison.Ordinal)));
        Assert.Single(events, e => e.StartsWith("Succeeded: ", StringComparison.Ordinal));
        await using var check = await second.DbAsync();
        Assert.Single(await check.Notifications.Where(n => n.UserId == userId && n.Kind == "job.succeeded").ToListAsync());
    }

    [Fact]
    public async Task WorkersStoppedWhileRunning_TheJobIsPickedUpAgain_AndConverges()
    {
        var database = await JobHost.NewDatabaseAsync("jobrestart");
        Guid id;
        await using (var first = new JobHost(database, _root))
        {
            _ = first.Server;
            var userId = await first.CreateUserAsync("gus");
            id = await first.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("restarts", new Dictionary<string, string> { ["sleep"] = "4" }));
            await first.AdmitAsync(id);
            await first.WaitForAsync(id, (j, r) => j.Observed == JobObserved.Running);
        }

        await Task.Delay(1000);
        await using var second = new JobHost(database, _root);
        _ = second.Server;
        var (job, replicas) = await second.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.All(replicas.Where(r => r.Role == ReplicaRole.Trainer), r => Assert.Equal(0, r.ExitCode));
        foreach (var replica in replicas)
        {
            var log = await File.ReadAllTextAsync(second.Backend.LogOf(id, replica.Label));
            Assert.Equal(1, log.Split('\n').Count(line => line.StartsWith(JobScripts.Marker, StringComparison.Ordinal)));
        }
    }
}
