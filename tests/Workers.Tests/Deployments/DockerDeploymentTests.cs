using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;
using Platform.Tests.Fixtures;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// The reconciler on the docker backend, against real Podman serving the Docker Engine API and the notebook image
/// built by Notebook/images/build.sh (the first run on a machine builds it; later ones find it in Podman's storage).
/// </summary>
[Trait("Category", "Slow")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DockerDeploymentTests : IDisposable
{
    private const string Password = "container pass 42";
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-ws-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_workspaces))
        {
            Directory.Delete(_workspaces, recursive: true);
        }
    }

    [Fact]
    public async Task Jupyter_RunsInAContainer_KeepsItsVolumeAcrossStopAndStart_AndDeleteRemovesContainerAndVolume()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("docker"), _workspaces, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
        });
        _ = host.Server;
        var docker = host.Services.GetRequiredService<DockerBackend>().Engine;
        var userId = await host.CreateUserAsync("linus");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, DeploymentHost.Jupyter(Password)))).Value!.Id;
        var name = WorkloadSpec.NameFor(id);
        var volume = DockerBackend.VolumeOf(id);

        try
        {
            var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed, TimeSpan.FromMinutes(3));
            Assert.True(running.Observed == ObservedState.Running, running.Reason);
            Assert.Equal(DockerBackend.BackendName, running.Backend);
            Assert.StartsWith("http://127.0.0.1:", running.Address, StringComparison.Ordinal);
            var first = JsonSerializer.Deserialize<DockerRecord>(running.BackendState!)!;
            var container = await docker.InspectContainerAsync(name, default);
            Assert.NotNull(container);
            Assert.Equal(first.ContainerId, container.Id);
            Assert.Equal(id.ToString(), container.Config.Labels![DockerBackend.DeploymentLabel]);
            Assert.Equal(userId.ToString(), container.Config.Labels["platform.owner"]);
            Assert.All(container.NetworkSettings!.Ports!["8888/tcp"]!, b => Assert.Equal("127.0.0.1", b.HostIp));
            var (_, limits) = await PodmanEngine.PodmanAsync("inspect", "--format", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", name);
            Assert.Equal("1000000000 2147483648", limits.Trim());
            // Init (PID 1) and Jupyter under it run without the password hash and token in their environment.
            var (_, environment) = await PodmanEngine.PodmanAsync("exec", name, "sh", "-c", "for p in 1 $(ps -o pid= --ppid 1); do tr '\\0' '\\n' < /proc/$p/environ; done");
            Assert.DoesNotContain("PLATFORM_JUPYTER_PASSWORD", environment, StringComparison.Ordinal);
            Assert.Contains($"PLATFORM_DEPLOYMENT_ID={id}", environment, StringComparison.Ordinal);
            var events = await host.EventsAsync(id);
            Assert.Contains(events, e => e.StartsWith($"Launched the container {name} from {PodmanEngine.JupyterImage}", StringComparison.Ordinal));
            Assert.Contains(events, e => e.StartsWith("Limits: 1 CPUs, 2048 MiB", StringComparison.Ordinal));

            using (var jupyter = new JupyterClient(running.Address!, id))
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await jupyter.GetAsync("api/contents")).StatusCode);
                Assert.NotEqual(HttpStatusCode.Found, await jupyter.LoginAsync("wrong password"));
                Assert.Equal(HttpStatusCode.Found, await jupyter.LoginAsync(Password));
                Assert.Equal(HttpStatusCode.Created, await jupyter.PutTextAsync("kept.txt", "written in a container"));
            }

            // The service token Workers hold is the one Jupyter accepts (activity checks use it).
            var serviceToken = host.Services.GetRequiredService<WorkloadSpecs>().ServiceTokenOf(running);
            Assert.Equal(HttpStatusCode.OK, await StatusWithTokenAsync(running.Address!, id, serviceToken!));

            // A package installed with pip lands in the workspace (PYTHONUSERBASE) and survives the container.
            var (pipCode, pipOutput) = await PodmanEngine.PodmanAsync("exec", name, "sh", "-c",
                "mkdir -p /tmp/p/keptpkg && echo 'VALUE = 42' > /tmp/p/keptpkg/__init__.py && " +
                "printf '[project]\\nname = \"keptpkg\"\\nversion = \"1.0\"\\n' > /tmp/p/pyproject.toml && " +
                "pip install --quiet --no-index --no-build-isolation /tmp/p");
            Assert.True(pipCode == 0, pipOutput);

            DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
            var stopped = await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);
            Assert.Null(stopped.Address);
            Assert.Null(await docker.InspectContainerAsync(name, default));
            Assert.True(await docker.VolumeExistsAsync(volume, default));

            DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
            var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation,
                TimeSpan.FromMinutes(2));
            Assert.True(again.Observed == ObservedState.Running, again.Reason);
            Assert.NotEqual(first.ContainerId, JsonSerializer.Deserialize<DockerRecord>(again.BackendState!)!.ContainerId);
            using (var jupyter = new JupyterClient(again.Address!, id))
            {
                Assert.Equal(HttpStatusCode.Found, await jupyter.LoginAsync(Password));
                Assert.Equal("written in a container", await jupyter.GetTextAsync("kept.txt"));
            }

            var (importCode, imported) = await PodmanEngine.PodmanAsync("exec", name, "python3", "-c", "import keptpkg, platformsdk; print(keptpkg.VALUE)");
            Assert.True(importCode == 0, imported);
            Assert.Equal("42", imported.Trim());

            Assert.True((await host.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
            await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
            Assert.Null(await docker.InspectContainerAsync(name, default));
            Assert.False(await docker.VolumeExistsAsync(volume, default));
            Assert.Empty(await docker.ListContainersAsync(DockerBackend.DeploymentLabel, id.ToString(), default));
        }
        finally
        {
            // Gone already after a passing run; a failing one leaves no container or volume behind.
            await host.Services.GetRequiredService<DockerBackend>().DeleteAsync(id, null, default);
        }
    }

    [Fact]
    public async Task ADatasetVersion_IsBoundReadOnlyUnderDatasets_InTheWorkspace()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("dockermounts"), _workspaces, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
            ["ConnectionStrings:objectstore"] = $"Folder={Path.Combine(_workspaces, "objects")}",
            ["Platform:Deployments:DatasetCache"] = Path.Combine(_workspaces, "dataset-cache"),
        });
        _ = host.Server;
        var userId = await host.CreateUserAsync("mae");
        await DatasetMountTests.PublishAsync(host, userId, "images", ("labels.csv", "cat,1\ndog,2\n"));
        var request = DeploymentHost.Jupyter(Password) with { Datasets = ["images@1"] };
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, request))).Value!.Id;
        try
        {
            var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed, TimeSpan.FromMinutes(3));
            Assert.True(running.Observed == ObservedState.Running, running.Reason);
            var name = WorkloadSpec.NameFor(id);

            var (readCode, read) = await PodmanEngine.PodmanAsync("exec", name, "cat", "/home/platform/work/datasets/images/labels.csv");
            Assert.True(readCode == 0, read);
            Assert.Equal("cat,1\ndog,2\n", read);
            var (writeCode, written) = await PodmanEngine.PodmanAsync("exec", name, "sh", "-c", "echo changed > /home/platform/work/datasets/images/labels.csv");
            Assert.NotEqual(0, writeCode);
            Assert.Contains("Read-only file system", written, StringComparison.Ordinal);
        }
        finally
        {
            await host.Services.GetRequiredService<DockerBackend>().DeleteAsync(id, null, default);
        }
    }

    [Fact]
    public async Task YourOwnImage_RunsUnderItsOwnCommand_AndAnswersUnderItsBasePath()
    {
        var engine = await PodmanEngine.GetAsync();
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("dockerownimage"), _workspaces, new Dictionary<string, string>
        {
            ["Compute:Backend"] = DockerBackend.BackendName,
            ["Compute:Docker:Socket"] = engine.Socket,
        });
        _ = host.Server;
        var userId = await host.CreateUserAsync("ola");
        var request = new Platform.Core.Deployments.CreateDeploymentRequest(null, "custom-image", "My API", null, "api", null, null, null, null, null, null, null, null,
            Image: PodmanEngine.DemoClassifierImage);
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, request))).Value!.Id;
        try
        {
            var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed, TimeSpan.FromMinutes(3));
            Assert.True(running.Observed == ObservedState.Running, running.Reason);
            Assert.Equal(PodmanEngine.DemoClassifierImage, running.Image);

            // The image's own CMD runs (no command was given), told its port and base path.
            var (code, inspected) = await PodmanEngine.PodmanAsync("inspect", "--format", "{{json .Config.Cmd}} {{.Config.Image}}", WorkloadSpec.NameFor(id));
            Assert.True(code == 0, inspected);
            Assert.Contains("\"demo_classifier\"", inspected, StringComparison.Ordinal);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var response = await http.GetAsync(running.Address + WorkloadSpec.BaseUrlFor(id));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await host.Services.GetRequiredService<DockerBackend>().DeleteAsync(id, null, default);
        }
    }

    [Fact]
    public async Task StartingTwice_AdoptsTheRunningContainer_NeverMakingASecond()
    {
        var engine = await PodmanEngine.GetAsync();
        using var backend = new DockerBackend(new DockerBackendOptions(engine.Socket));
        var spec = Spec(PodmanEngine.JupyterImage);
        try
        {
            var progress = new List<string>();
            var first = await backend.StartAsync(spec, null, new Progress(progress), default);
            var second = await backend.StartAsync(spec, null, new Progress(progress), default);

            Assert.True(first.Launched);
            Assert.False(second.Launched);
            Assert.Equal(first.Address, second.Address);
            Assert.Equal(first.State, second.State);
            Assert.Single(await backend.Engine.ListContainersAsync(DockerBackend.DeploymentLabel, spec.DeploymentId.ToString(), default));
            Assert.Contains(progress, p => p.StartsWith($"Adopted the running container {spec.Name}", StringComparison.Ordinal));
            Assert.Equal(WorkloadStatus.Running, (await backend.PollAsync(spec.DeploymentId, first.State, default)).Status);
        }
        finally
        {
            await backend.DeleteAsync(spec.DeploymentId, null, default);
        }

        Assert.Equal(WorkloadStatus.NotFound, (await backend.PollAsync(spec.DeploymentId, null, default)).Status);
        Assert.False(await backend.Engine.VolumeExistsAsync(DockerBackend.VolumeOf(spec.DeploymentId), default));
    }

    [Fact]
    public async Task AnImageNotOnTheEngine_OrAnEngineNotAnswering_IsAWorkloadExceptionSayingSo()
    {
        var engine = await PodmanEngine.GetAsync();
        using var backend = new DockerBackend(new DockerBackendOptions(engine.Socket));
        var spec = Spec("localhost/platform-no-such-image:never");

        var missing = await Assert.ThrowsAsync<WorkloadException>(() => backend.StartAsync(spec, null, new Progress([]), default));
        Assert.Contains("'localhost/platform-no-such-image:never' is not on the container engine", missing.Message, StringComparison.Ordinal);
        Assert.Null(await backend.Engine.InspectContainerAsync(spec.Name, default));

        using var nowhere = new DockerBackend(new DockerBackendOptions(Path.Combine(_workspaces, "no-engine.sock")));
        var absent = await Assert.ThrowsAsync<WorkloadException>(() => nowhere.StartAsync(spec, null, new Progress([]), default));
        Assert.Contains("does not answer", absent.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AContainerThatExits_IsPolledAsExited_WithItsCodeAndLastLines()
    {
        var engine = await PodmanEngine.GetAsync();
        using var backend = new DockerBackend(new DockerBackendOptions(engine.Socket));
        var spec = Spec(PodmanEngine.JupyterImage) with
        {
            Service = Platform.Core.Catalog.ModuleService.Api,
            ApiCommand = ["sh", "-c", "echo out-line; echo err-line >&2; sleep 2; exit 3"],
        };
        try
        {
            var started = await backend.StartAsync(spec, null, new Progress([]), default);
            BackendStatus status;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            do
            {
                await Task.Delay(200);
                status = await backend.PollAsync(spec.DeploymentId, started.State, default);
            }
            while (status.Status == WorkloadStatus.Running && DateTime.UtcNow < deadline);

            Assert.Equal(WorkloadStatus.Exited, status.Status);
            Assert.Equal(3, status.ExitCode);
            Assert.Contains("out-line", status.Reason, StringComparison.Ordinal);
            Assert.Contains("err-line", status.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await backend.DeleteAsync(spec.DeploymentId, null, default);
        }
    }

    [Fact]
    public async Task TheDemoClassifierApi_AnswersOnItsPublishedPort_UnderItsBasePath()
    {
        var engine = await PodmanEngine.GetAsync();
        using var backend = new DockerBackend(new DockerBackendOptions(engine.Socket));
        var spec = Spec(PodmanEngine.DemoClassifierImage) with
        {
            Module = "demo-classifier",
            Service = Platform.Core.Catalog.ModuleService.Api,
            ApiCommand = ["python3", "-m", "demo_classifier"],
        };
        try
        {
            var started = await backend.StartAsync(spec, null, new Progress([]), default);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            HttpStatusCode? answered = null;
            for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); answered is null && DateTime.UtcNow < deadline; await Task.Delay(200))
            {
                try
                {
                    using var response = await http.GetAsync(started.Address + spec.BaseUrl);
                    answered = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
            }

            Assert.Equal(HttpStatusCode.OK, answered);
        }
        finally
        {
            await backend.DeleteAsync(spec.DeploymentId, null, default);
        }
    }

    private static WorkloadSpec Spec(string image)
    {
        var id = Guid.CreateVersion7();
        return new WorkloadSpec(id, "development", Platform.Core.Catalog.ModuleService.Jupyter,
            new Platform.Core.Catalog.ResourceRequest(0.5, 0, 512, 1), DeploymentTemplate.Default, [], null, Password,
            new Dictionary<string, string> { ["PLATFORM_DEPLOYMENT_ID"] = id.ToString() }, Secrets.NewToken(40), [])
        {
            Image = image,
        };
    }

    private static async Task<HttpStatusCode> StatusWithTokenAsync(string address, Guid id, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{address}/ide/{id}/api/status");
        request.Headers.Authorization = new AuthenticationHeaderValue("token", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static Result<bool> Wrap(Result result) => result.IsSuccess ? true : result.Error!;

    private sealed class Progress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
