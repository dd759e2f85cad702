using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Tests.Fixtures;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// The job reconciler on the docker batch backend, against real Podman serving the Docker Engine API, with the notebook
/// image (it has python3): the same distributed program as on the process backend, one container per replica on the
/// host's network.
/// </summary>
[Trait("Category", "Slow")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DockerJobTests : IDisposable
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
    public async Task TwoTrainersAndAParameterServer_RunAsContainers_ReachEachOther_AndSucceed()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobdocker"), _root, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBatchBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
            ["Platform:Jobs:DockerWorkRoot"] = Path.Combine(_root, "docker-jobs"),
        });
        _ = host.Server;
        var backend = host.Services.GetRequiredService<DockerBatchBackend>();
        var userId = await host.CreateUserAsync("hal");
        var id = await host.SubmitAsync(userId, JobScripts.TwoTrainersOnePserver("in-containers", new Dictionary<string, string> { ["sleep"] = "1" }, "container-model")
            with { Image = PodmanEngine.JupyterImage, Trainers = new ReplicaGroupRequest(2, 0.5, 0, 512), ParameterServers = new ReplicaGroupRequest(1, 0.5, 0, 512) });
        try
        {
            await host.AdmitAsync(id);
            var (job, replicas) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed), TimeSpan.FromMinutes(3));
            Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
            Assert.Equal(DockerBatchBackend.BackendName, job.Backend);
            Assert.Equal(1, job.OutputModelVersion);
            Assert.All(replicas.Where(r => r.Role == ReplicaRole.Trainer), r => Assert.Equal(0, r.ExitCode));

            var trainer = await backend.Engine.InspectContainerAsync(BatchSpec.NameFor(id, "trainer-1"), default);
            Assert.NotNull(trainer);
            Assert.Equal(JsonSerializer.Deserialize<DockerBatchRecord>(replicas.Single(r => r.Label == "trainer-1").BackendState!)!.ContainerId, trainer.Id);
            Assert.Equal((id.ToString(), "trainer-1", userId.ToString()),
                (trainer.Config.Labels![DockerBatchBackend.JobLabel], trainer.Config.Labels[DockerBatchBackend.ReplicaLabel], trainer.Config.Labels["platform.owner"]));
            Assert.Equal(0, trainer.State.ExitCode);

            var log = Encoding.UTF8.GetString(await backend.ReadLogAsync(id, "trainer-1", null, 0, 1 << 20, default));
            Assert.Contains("reply: ack hello from rank 1 paddle id 1", log);
            var skipped = Encoding.UTF8.GetString(await backend.ReadLogAsync(id, "trainer-1", null, 10, 1 << 20, default));
            Assert.Equal(log[10..], skipped);
            Assert.Contains("reply: ack hello from rank 1", await backend.LogTailAsync(id, "trainer-1", null, 5, default));
            Assert.StartsWith("ack hello from rank 0; world 3", await File.ReadAllTextAsync(Path.Combine(backend.OutputFolderOf(id)!, "model.txt")));
            Assert.True((await backend.NodesAsync(default))[0].Cpus >= 1);
        }
        finally
        {
            await backend.CleanupAsync(id, default);
        }

        Assert.Null(await backend.Engine.InspectContainerAsync(BatchSpec.NameFor(id, "trainer-0"), default));
    }

    [Fact]
    public async Task AFailingContainer_FailsTheJob_WithItsLogLines()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobdockerfail"), _root, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBatchBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
            ["Platform:Jobs:DockerWorkRoot"] = Path.Combine(_root, "docker-jobs"),
        });
        _ = host.Server;
        var backend = host.Services.GetRequiredService<DockerBatchBackend>();
        var userId = await host.CreateUserAsync("ida");
        var id = await host.SubmitAsync(userId, new SubmitJobRequest(
            Name: "breaks", Image: PodmanEngine.JupyterImage, Command: ["sh", "-c", "echo checkpoint missing; exit 3"],
            Trainers: new ReplicaGroupRequest(1, 0.5, 0, 256)));
        try
        {
            await host.AdmitAsync(id);
            var (job, _) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed), TimeSpan.FromMinutes(2));
            Assert.Equal(JobObserved.Failed, job.Observed);
            Assert.Equal("trainer-0 exited with code 3. Last log lines:\ncheckpoint missing", job.Reason);
        }
        finally
        {
            await backend.CleanupAsync(id, default);
        }
    }

    [Fact]
    public async Task AForkWithoutEnd_IsCutOffByTheContainersProcessLimit_WithAClearReason()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobdockerfork"), _root, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBatchBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
            ["Platform:Jobs:DockerWorkRoot"] = Path.Combine(_root, "docker-jobs"),
            ["Platform:Jobs:Docker:PidsLimit"] = "40",
        });
        _ = host.Server;
        var backend = host.Services.GetRequiredService<DockerBatchBackend>();
        var userId = await host.CreateUserAsync("jo");
        const string bomb = """
            import os, sys, time
            n = 0
            try:
                while True:
                    if os.fork() == 0:
                        time.sleep(120); os._exit(0)
                    n += 1
            except OSError as e:
                print("fork failed after", n, "children:", e, flush=True); sys.exit(1)
            """;
        var id = await host.SubmitAsync(userId, new SubmitJobRequest(
            Name: "forks", Image: PodmanEngine.JupyterImage, Command: ["python3", "-c", bomb], Trainers: new ReplicaGroupRequest(1, 0.5, 0, 256)));
        try
        {
            await host.AdmitAsync(id);
            var (job, replicas) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed), TimeSpan.FromMinutes(2));
            Assert.Equal(JobObserved.Failed, job.Observed);
            var log = Encoding.UTF8.GetString(await backend.ReadLogAsync(id, "trainer-0", null, 0, 1 << 20, default));
            Assert.True(job.Reason!.StartsWith("trainer-0 exited with code 1 (it reached the limit on processes: a fork without end is cut off). Last log lines:", StringComparison.Ordinal),
                job.Reason + "\nlog:\n" + log);
            Assert.Contains("Resource temporarily unavailable", job.Reason);
            var container = await backend.Engine.InspectContainerAsync(BatchSpec.NameFor(id, "trainer-0"), default);
            Assert.False(container!.State.Running);
        }
        finally
        {
            await backend.CleanupAsync(id, default);
        }
    }
}
