using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Datasets;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// The job reconciler with the process backend and real python3 replicas: admission is done as the scheduler does it
/// (<see cref="JobHost.AdmitAsync"/>), everything after by the reconciler.
/// </summary>
[Trait("Category", "Slow")]
public sealed class JobExecutionTests : IDisposable
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
    public async Task TwoTrainersAndAParameterServer_ReachEachOther_Succeed_AndTheOutputBecomesAModelVersion()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobrun"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("ada");
        var id = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("mnist", new Dictionary<string, string> { ["learning-rate"] = "0.1" }, "mnist-model"));
        await host.AdmitAsync(id);

        var (job, replicas) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.NotNull(job.StartedAt);
        Assert.NotNull(job.FinishedAt);
        Assert.Null(job.TokenHash);
        Assert.Equal(1, job.OutputModelVersion);
        var trainers = replicas.Where(r => r.Role == ReplicaRole.Trainer).ToList();
        Assert.All(trainers, t => Assert.Equal((0, ReplicaObserved.Succeeded), (t.ExitCode ?? -1, t.Observed)));
        var pserver = replicas.Single(r => r.Role == ReplicaRole.ParameterServer);
        Assert.Equal(ReplicaObserved.Stopped, pserver.Observed);
        Assert.Equal("stopped: the trainers finished", pserver.Reason);
        Assert.Equal(3, replicas.Select(r => r.Port).Distinct().Count());
        Assert.False(ProcessBackend.IsAlive(JsonSerializer.Deserialize<ProcessRecord>(pserver.BackendState!)!));

        // The replicas reached each other at the injected addresses: each trainer got the server's answer.
        for (var rank = 0; rank < 2; rank++)
        {
            var log = await File.ReadAllTextAsync(host.Backend.LogOf(id, $"trainer-{rank}"));
            Assert.Contains($"reply: ack hello from rank {rank} paddle id {rank} trainers 127.0.0.1:{trainers[0].Port},127.0.0.1:{trainers[1].Port}", log);
            Assert.Contains($"rank {rank} of 3", log);
        }

        Assert.Contains("rank 2 of 3", await File.ReadAllTextAsync(host.Backend.LogOf(id, "pserver-0")));
        var options = await File.ReadAllTextAsync(Path.Combine(host.Backend.WorkFolderOf(id), "options.json"));
        Assert.Equal("0.1", JsonDocument.Parse(options).RootElement.GetProperty("learning-rate").GetString());

        // output/ became version 1 of the model, in the job's account, marked as made by the job.
        await using (var db = await host.DbAsync())
        {
            var model = await db.Artifacts.SingleAsync(a => a.Name == "mnist-model" && a.Kind == ArtifactKind.Model);
            Assert.Equal(job.AccountId, model.AccountId);
            Assert.Equal(id, model.SourceJobId);
            var version = await db.ArtifactVersions.SingleAsync(v => v.ArtifactId == model.Id && v.Number == 1);
            var files = await db.ArtifactFiles.Where(f => f.VersionId == version.Id).Select(f => f.Path).ToListAsync();
            Assert.Equal(["model.txt"], files);
            var notifications = await db.Notifications.Where(n => n.UserId == userId).OrderBy(n => n.Id).Select(n => n.Kind + " " + n.Link).ToListAsync();
            Assert.Equal([$"job.started /Jobs/{id}", $"job.succeeded /Jobs/{id}"], notifications);
        }

        var events = await host.EventsAsync(id);
        Assert.Contains("Starting: launching 2 trainers and 1 parameter server", events);
        Assert.Contains(events, e => e.StartsWith("Launched trainer-1 on node-a at 127.0.0.1:", StringComparison.Ordinal));
        Assert.Contains("Running: 2 trainers and 1 parameter server", events);
        Assert.Contains(events, e => e.StartsWith("Outputs: output/ (1 file,", StringComparison.Ordinal) && e.EndsWith("became version 1 of model mnist-model", StringComparison.Ordinal));
        Assert.Contains("Succeeded: all 2 trainers exited with code 0; outputs are version 1 of model mnist-model", events);
    }

    [Fact]
    public async Task AFailingTrainer_FailsTheJob_WithTheReplicaAndItsLastLogLines()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobfail"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("bob");
        var id = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("diverges", new Dictionary<string, string> { ["fail_rank_1"] = "2", ["sleep"] = "0" }, "never-made"));
        await host.AdmitAsync(id);

        var (job, replicas) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.Equal(JobObserved.Failed, job.Observed);
        Assert.StartsWith("trainer-1 exited with code 2. Last log lines:\n", job.Reason);
        Assert.Contains("trainer 1 gives up: loss is NaN", job.Reason);
        var failed = replicas.Single(r => r.Label == "trainer-1");
        Assert.Equal((2, ReplicaObserved.Failed), (failed.ExitCode, failed.Observed));
        Assert.All(replicas.Where(r => r.Observed == ReplicaObserved.Running), r => Assert.Fail($"{r.Label} still running"));
        Assert.All(replicas, r => Assert.False(ProcessBackend.IsAlive(JsonSerializer.Deserialize<ProcessRecord>(r.BackendState!)!)));
        Assert.Null(job.OutputModelVersion);
        await using var db = await host.DbAsync();
        Assert.False(await db.Artifacts.AnyAsync(a => a.Name == "never-made"));
        var failure = await db.Notifications.SingleAsync(n => n.UserId == userId && n.Kind == "job.failed");
        Assert.Contains("trainer-1 exited with code 2", failure.Message);
    }

    [Fact]
    public async Task StoppingARunningJob_EndsEveryProcess_AndAQueuedOneLeavesTheQueue()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobstop"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("cy");
        var id = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("long", new Dictionary<string, string> { ["sleep"] = "600" }));
        var queued = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("never-admitted"));
        await host.AdmitAsync(id);
        var (_, running) = await host.WaitForAsync(id, (j, _) => j.Observed is JobObserved.Running || JobService.IsFinished(j.Observed));
        var records = running.Select(r => JsonSerializer.Deserialize<ProcessRecord>(r.BackendState!)!).ToList();
        Assert.All(records, r => Assert.True(ProcessBackend.IsAlive(r)));

        Assert.True((await host.WithAsync(sp => sp.GetRequiredService<JobService>().StopAsync(userId, id))).IsSuccess);
        Assert.True((await host.WithAsync(sp => sp.GetRequiredService<JobService>().StopAsync(userId, queued))).IsSuccess);
        var (job, replicas) = await host.WaitForAsync(id, (j, _) => j.Observed == JobObserved.Stopped);
        Assert.All(records, r => Assert.False(ProcessBackend.IsAlive(r)));
        Assert.All(replicas, r => Assert.Equal((ReplicaObserved.Stopped, "stopped on request"), (r.Observed, r.Reason)));
        Assert.NotNull(job.FinishedAt);
        var events = await host.EventsAsync(id);
        Assert.Contains("Stopping: ending the replicas", events);
        Assert.Contains("Stopped: every replica has ended", events);

        var (left, _) = await host.WaitForAsync(queued, (j, _) => j.Observed == JobObserved.Stopped);
        Assert.Null(left.StartedAt);
        Assert.Contains("Stopped: it left the queue before starting", await host.EventsAsync(queued));
    }

    [Fact]
    public async Task AMemoryHog_IsCutOffByItsLimit_WithAClearReason()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobhog"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("dee");
        var id = await host.SubmitAsync(userId, new SubmitJobRequest(
            Name: "hog", Command: ["python3", "-c", "print('allocating', flush=True); x = bytearray(4 * 1024 ** 3)"],
            Trainers: new ReplicaGroupRequest(1, 0.5, 0, 256)));
        await host.AdmitAsync(id);

        var (job, _) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.Equal(JobObserved.Failed, job.Observed);
        Assert.StartsWith("trainer-0 exited with code 1 (it ran out of its memory limit of 256 MiB). Last log lines:", job.Reason);
        Assert.Contains("MemoryError", job.Reason);
    }

    [Fact]
    public async Task AForkWithoutEnd_IsHeldToItsProcessLimit_ByAPidsCgroup_AndItsChildrenEndWithTheJob()
    {
        Assert.True(PidsCgroup.Create("platform-probe", 10) is not null, "this machine has no writable pids cgroup (run the tests as root on Linux)");
        PidsCgroup.Remove("platform-probe");
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobfork"), _root, new Dictionary<string, string>
        {
            ["Platform:Jobs:MaxProcesses"] = "40",
        });
        _ = host.Server;
        var userId = await host.CreateUserAsync("fay");
        const string bomb = """
            import os, sys, time
            n = 0
            try:
                while True:
                    if os.fork() == 0:
                        time.sleep(300); os._exit(0)
                    n += 1
            except OSError as e:
                print("fork failed after", n, "children:", e, flush=True); sys.exit(1)
            """;
        var id = await host.SubmitAsync(userId, new SubmitJobRequest(Name: "forks", Command: ["python3", "-c", bomb], Trainers: new ReplicaGroupRequest(1, 0.5, 0, 256)));
        await host.AdmitAsync(id);

        var (job, _) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.Equal(JobObserved.Failed, job.Observed);
        // The wrapper shell and python count too: fewer than 40 children, whoever runs it (root included).
        var forked = int.Parse(System.Text.RegularExpressions.Regex.Match(job.Reason!, "fork failed after ([0-9]+) children").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(forked, 1, 39);
        Assert.StartsWith("trainer-0 exited with code 1 (it reached the limit on processes: a fork without end is cut off). Last log lines:", job.Reason);

        // The children outlived their parent; the job's end reaches them through the cgroup.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (PidsCgroup.Pids(BatchSpec.NameFor(id, "trainer-0")).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Empty(PidsCgroup.Pids(BatchSpec.NameFor(id, "trainer-0")));
    }

    [Fact]
    public async Task ATimeLimit_StopsTheJob_AndFailsIt()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("joblimit"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("eve");
        var id = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("slow", new Dictionary<string, string> { ["sleep"] = "600" }) with { TimeLimitMinutes = 1 });
        await host.AdmitAsync(id);
        var (_, running) = await host.WaitForAsync(id, (j, _) => j.Observed == JobObserved.Running);

        // A minute is long for a test: the job is made to have started a minute ago.
        await using (var db = await host.DbAsync())
        {
            await db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.StartedAt, DateTimeOffset.UtcNow.AddMinutes(-1)));
        }

        var (job, replicas) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.Equal((JobObserved.Failed, "time limit of 1 minutes reached"), (job.Observed, job.Reason));
        Assert.All(running, r => Assert.False(ProcessBackend.IsAlive(JsonSerializer.Deserialize<ProcessRecord>(r.BackendState!)!)));
        Assert.All(replicas, r => Assert.Equal("stopped: the time limit of 1 minutes was reached", r.Reason));
    }
}
