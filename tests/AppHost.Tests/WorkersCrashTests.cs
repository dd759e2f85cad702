using System.Text.Json;
using Platform.AppHost.Processes;
using Platform.Core.Deployments.Backends;

namespace Platform.AppHost.Tests;

/// <summary>
/// The reconciler's promise, on the real platform: Workers killed with SIGKILL while a deployment is starting lose
/// nothing. The AppHost restarts them; once the dead worker's lease runs out the new one resumes the start, adopts the
/// Jupyter it finds in the workspace's process record (or launches it, if the kill came first), and the deployment
/// runs exactly once.
/// </summary>
[Collection(JupyterPlatform.Collection)]
public sealed class WorkersCrashTests(JupyterPlatform platform)
{
    [Fact]
    public async Task WorkersKilledMidStart_TheDeploymentRunsExactlyOnce()
    {
        using var owner = await PlatformSession.SignUpAsync(platform.Url, "crash-owner@example.test");
        var workers = platform.Platform.PidOf("workers");
        var id = await owner.CreateJupyterAsync("crash notebook", "crash pass 123");

        // Killed as soon as the start shows, before Jupyter can answer.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await owner.EventsAsync(id)).Any(e => e.State == "Starting"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the start never began");
            await Task.Delay(10);
        }

        Unix.Signal(workers, Unix.SIGKILL);
        var atKill = await owner.GetAsync(id);
        Assert.Equal("starting", atKill.GetProperty("observed").GetString());

        Assert.True(await platform.Platform.WaitForLineAsync("workers restarted", TimeSpan.FromSeconds(30)), platform.Platform.Output);
        Assert.NotEqual(workers, platform.Platform.PidOf("workers"));
        // The new Workers start, wait out the dead one's lease (10 s here), then resume; slow on a busy machine.
        await owner.WaitForAsync(id, "running", TimeSpan.FromSeconds(240));

        var events = await owner.EventsAsync(id);
        var history = string.Join('\n', events);
        Assert.Single(events, e => e.State == "Running");
        Assert.DoesNotContain(events, e => e.State == "Failed");
        Assert.Contains(events, e => e.Message.Contains("(resumed)", StringComparison.Ordinal));

        // One Jupyter for it, the one the process record names, and it answers through the front door.
        var processes = JupyterProcesses.Of(id);
        Assert.True(processes.Count == 1, $"Jupyter processes {string.Join(", ", processes)}; events:\n{history}");
        var record = JsonSerializer.Deserialize<ProcessRecord>(await File.ReadAllTextAsync(Path.Combine(platform.WorkspaceOf(id), ".platform", "process.json")))!;
        Assert.Equal(processes[0], record.Pid);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await owner.Http.GetAsync($"/ide/{id}/api")).StatusCode);

        // Still exactly once after a few more checks by the new worker.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(await owner.EventsAsync(id), e => e.State == "Running");
        Assert.Single(JupyterProcesses.Of(id));

        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/v1/deployments/{id}")).StatusCode);
        await platform.WaitUntilGoneAsync(id, TimeSpan.FromSeconds(60));
    }
}
