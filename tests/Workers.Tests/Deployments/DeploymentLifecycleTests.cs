using System.Net;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// The reconciler with the process backend and real Jupyter (Debian's notebook server): each test takes a minute or
/// less, most of it Jupyter starting.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DeploymentLifecycleTests : IDisposable
{
    private const string Password = "notebook pass 42";
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-ws-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_workspaces))
        {
            Directory.Delete(_workspaces, recursive: true);
        }
    }

    [Fact]
    public async Task Jupyter_Runs_KeepsItsWorkspaceAcrossStopAndStart_AndIsRemovedOnDelete()
    {
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("deploy"), _workspaces);
        _ = host.Server;
        var userId = await host.CreateUserAsync("ada");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, DeploymentHost.Jupyter(Password)))).Value!.Id;

        var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);
        Assert.Equal(running.Generation, running.ObservedGeneration);
        Assert.NotNull(running.TokenHash);
        var workspace = host.Backend.WorkspaceOf(id);
        using (var jupyter = new JupyterClient(running.Address!, id))
        {
            Assert.Equal(HttpStatusCode.OK, (await jupyter.GetAsync("api")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await jupyter.GetAsync("api/contents")).StatusCode);
            using var stranger = new JupyterClient(running.Address!, id);
            Assert.NotEqual(HttpStatusCode.Found, await stranger.LoginAsync("wrong password"));
            Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync("api/contents")).StatusCode);
            Assert.Equal(HttpStatusCode.Found, await jupyter.LoginAsync(Password));
            Assert.Equal(HttpStatusCode.Created, await jupyter.PutTextAsync("kept.txt", "written through Jupyter"));
        }

        Assert.Equal("written through Jupyter", await File.ReadAllTextAsync(Path.Combine(workspace, "kept.txt")));
        var events = await host.EventsAsync(id);
        Assert.Contains("Starting: launching Jupyter", events);
        Assert.Contains(events, e => e.StartsWith("Limits: ", StringComparison.Ordinal));
        Assert.Contains(events, e => e.StartsWith($"Running: http://platform.test/ide/{id}/", StringComparison.Ordinal));

        var first = DeploymentHost.Record(running);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        var stopped = await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);
        Assert.False(ProcessBackend.IsAlive(first));
        Assert.Null(stopped.Address);
        Assert.True(File.Exists(Path.Combine(workspace, "kept.txt")));

        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation);
        Assert.Equal(ObservedState.Running, again.Observed);
        Assert.NotEqual(first.Pid, DeploymentHost.Record(again).Pid);
        using (var jupyter = new JupyterClient(again.Address!, id))
        {
            Assert.Equal(HttpStatusCode.Found, await jupyter.LoginAsync(Password));
            Assert.Equal("written through Jupyter", await jupyter.GetTextAsync("kept.txt"));
        }

        var second = DeploymentHost.Record(again);
        Assert.True((await host.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
        Assert.False(ProcessBackend.IsAlive(second));
        Assert.False(Directory.Exists(workspace));
        Assert.Equal(ErrorKind.NotFound, (await host.WithServiceAsync(s => s.GetAsync(userId, id))).Error?.Kind);
        Assert.Contains("Deleted: the workload and its workspace are removed", await host.EventsAsync(id));
    }

    [Fact]
    public async Task AWorkerStoppedMidStart_IsFollowedByOneThatAdoptsTheProcess_NeverStartingItTwice()
    {
        var database = await DeploymentHost.NewDatabaseAsync("adopt");
        Guid id, userId;
        ProcessRecord launched;
        // Slow readiness probing keeps the first worker inside the start, after launching, when it is stopped.
        await using (var first = new DeploymentHost(database, _workspaces, new Dictionary<string, string>
        {
            ["Platform:Deployments:Reconciler:ReadinessInterval"] = "00:00:30",
        }))
        {
            _ = first.Server;
            userId = await first.CreateUserAsync("grace");
            id = DeploymentHost.Ok(await first.WithServiceAsync(s => s.CreateAsync(userId, DeploymentHost.Jupyter(Password)))).Value!.Id;
            var starting = await first.WaitForAsync(id, d => d.Observed == ObservedState.Starting && d.BackendState is not null, pollMs: 20);
            launched = DeploymentHost.Record(starting);
        }

        Assert.True(ProcessBackend.IsAlive(launched), "stopping Workers must not stop the workloads it started");
        var workspace = Path.Combine(_workspaces, id.ToString());
        await using (var db = Platform.Core.Persistence.DatabaseMigrator.CreateContext(database))
        {
            Assert.Equal(ObservedState.Starting, Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions
                .AsNoTracking(db.Deployments).Single(d => d.Id == id).Observed);
        }

        await using var second = new DeploymentHost(database, _workspaces);
        _ = second.Server;
        var running = await second.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);
        Assert.Equal(launched, DeploymentHost.Record(running));
        Assert.Equal([launched.Pid], ProcessesIn(workspace));
        Assert.Contains(await second.EventsAsync(id), e => e.StartsWith($"Adopted the running process {launched.Pid}", StringComparison.Ordinal));
        Assert.Single(await second.EventsAsync(id), e => e.StartsWith("Launched ", StringComparison.Ordinal));

        Assert.True((await second.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
        await second.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
        Assert.Empty(ProcessesIn(workspace));
    }

    /// <summary>Processes whose command line names the workspace (Jupyter is told it as its notebook folder).</summary>
    private static List<int> ProcessesIn(string workspace)
    {
        var found = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }

            try
            {
                var arguments = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                var state = File.ReadAllText(Path.Combine(folder, "stat"));
                if (arguments.Any(a => a.EndsWith("_dir=" + workspace, StringComparison.Ordinal)) && state[(state.LastIndexOf(')') + 2)] != 'Z')
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return found;
    }

    private static Result<bool> Wrap(Result result) => result.IsSuccess ? true : result.Error!;
}
