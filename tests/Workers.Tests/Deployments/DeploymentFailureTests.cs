using System.Text;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;

namespace Platform.Workers.Tests.Deployments;

/// <summary>What the reconciler does when a workload cannot start or dies, and what a workload is given to run with.</summary>
[Trait("Category", "Slow")]
public sealed class DeploymentFailureTests : IDisposable
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
    public async Task AWorkloadThatDies_IsRecordedAsFailed_NotRestarted_UntilItsOwnerStartsItAgain()
    {
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("dies"), _workspaces, new Dictionary<string, string>
        {
            ["Platform:Deployments:Reconciler:PollInterval"] = "00:00:00.500",
        });
        _ = host.Server;
        var userId = await host.CreateUserAsync("lin");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, DeploymentHost.Jupyter(Password)))).Value!.Id;
        var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);

        var record = DeploymentHost.Record(running);
        System.Diagnostics.Process.GetProcessById(record.Pid).Kill(entireProcessTree: true);
        var failed = await host.WaitForAsync(id, d => d.Observed == ObservedState.Failed, TimeSpan.FromSeconds(30));
        Assert.Contains($"process {record.Pid} ended", failed.Reason);
        Assert.Equal(DesiredState.Running, failed.Desired);
        Assert.Equal(failed.Generation, failed.ObservedGeneration);
        Assert.Null(failed.NextCheckAt);

        // Several resyncs later it is still failed, with one launch only.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(ObservedState.Failed, (await host.RowAsync(id)).Observed);
        Assert.Single(await host.EventsAsync(id), e => e.StartsWith("Launched ", StringComparison.Ordinal));

        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running && d.ObservedGeneration == d.Generation);
        Assert.True(ProcessBackend.IsAlive(DeploymentHost.Record(again)));
        Assert.Contains("Restart requested by lin", await host.EventsAsync(id));

        Assert.True((await host.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
    }

    [Fact]
    public async Task TheModuleApi_RunsWithItsPort_AndTheInjectedEnvironment_ButNotTheWorkersSecrets()
    {
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("api"), _workspaces);
        _ = host.Server;
        var userId = await host.CreateUserAsync("kay");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId,
            new CreateDeploymentRequest(null, "echo-api", "Echo", null, "api", null, null, null, null, null, null, null, null)))).Value!.Id;
        var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);

        // The default template's README, served by the module's command from the workspace on the port it was told.
        using var http = new HttpClient();
        Assert.Contains("This folder is your workspace", await http.GetStringAsync($"{running.Address}/README.md"));

        var environment = Encoding.UTF8.GetString(await File.ReadAllBytesAsync($"/proc/{DeploymentHost.Record(running).Pid}/environ"))
            .Split('\0', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        Assert.Equal(id.ToString(), environment["PLATFORM_DEPLOYMENT_ID"]);
        Assert.Equal("http://platform.test", environment["PLATFORM_API_URL"]);
        Assert.Equal(running.Address, $"http://127.0.0.1:{environment["PORT"]}");
        Assert.Equal($"/ide/{id}/", environment["BASE_PATH"]);
        Assert.True(Secrets.HashEquals(environment["PLATFORM_API_KEY"], running.TokenHash!), "the stored hash is the token's");
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase));

        Assert.True((await host.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
    }

    [Fact]
    public async Task VsCode_WithoutCodeServer_FailsWithAPlainReason()
    {
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("vscode"), _workspaces);
        _ = host.Server;
        var userId = await host.CreateUserAsync("max");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId,
            new CreateDeploymentRequest(null, "development", "Editor", null, "vscode", null, null, null, null, null, null, null, Password)))).Value!.Id;
        var done = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        if (ProcessBackend.OnPath("code-server") is null)
        {
            Assert.Equal(ObservedState.Failed, done.Observed);
            Assert.Equal("code-server is not installed on this machine.", done.Reason);
            Assert.Contains("Failed: code-server is not installed on this machine.", await host.EventsAsync(id));
        }
        else
        {
            Assert.Equal(ObservedState.Running, done.Observed);
        }

        Assert.True((await host.WithServiceAsync(async s => Wrap(await s.DeleteAsync(userId, id)))).IsSuccess);
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
    }

    private static Result<bool> Wrap(Result result) => result.IsSuccess ? true : result.Error!;
}
