using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// The idle culler against real Jupyter servers started by the real reconciler (process backend), with "minutes" one
/// second long: an idle notebook is warned, then stopped with its workspace kept; a notebook whose kernel runs code
/// is left alone until the code ends, and use after the warning clears it.
/// </summary>
public sealed class IdleCullerTests : IAsyncLifetime
{
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-idle-{Guid.NewGuid():N}");
    private DeploymentHost _workers = null!;

    public async Task InitializeAsync()
    {
        _workers = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("idle"), _workspaces, new Dictionary<string, string>
        {
            // Off until the test's account turns it on; then its "minutes" last a second each.
            ["Platform:IdleCulling:CullMinutes"] = "0",
            ["Platform:IdleCulling:Minute"] = "00:00:01",
            ["Platform:IdleCulling:CheckInterval"] = "00:00:00.500",
            ["Platform:Deployments:Reconciler:ResyncInterval"] = "00:00:00.500",
        });
        _ = _workers.Server;
    }

    public async Task DisposeAsync()
    {
        using (var scope = _workers.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            foreach (var d in await db.Deployments.AsNoTracking().ToListAsync())
            {
                await _workers.Backend.DeleteAsync(d.Id, d.BackendState, CancellationToken.None);
            }
        }

        await _workers.DisposeAsync();
        if (Directory.Exists(_workspaces))
        {
            Directory.Delete(_workspaces, recursive: true);
        }
    }

    [Fact]
    public async Task AnIdleNotebook_IsWarnedThenStopped_KeepingItsWorkspace_WhileABusyKernelKeepsItsNotebookRunning()
    {
        var userId = await _workers.CreateUserAsync("Idle Owner");
        var accountId = await WithDbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.CurrentAccountId!.Value).SingleAsync());
        var idle = await DeployAsync(userId, accountId, "Idle notebook");
        var busy = await DeployAsync(userId, accountId, "Busy notebook");
        await _workers.WaitForAsync(idle, d => d.Observed == ObservedState.Running);
        var busyRunning = await _workers.WaitForAsync(busy, d => d.Observed == ObservedState.Running);
        var kept = Path.Combine(_workers.Backend.WorkspaceOf(idle), "analysis.ipynb");
        await File.WriteAllTextAsync(kept, "{}");

        // Code runs in the busy notebook's kernel (started and fed over Jupyter's REST and WebSocket APIs with the service token).
        var token = ServiceToken(busyRunning);
        var root = $"{busyRunning.Address}{WorkloadSpec.BaseUrlFor(busy)}";
        using var jupyter = new HttpClient();
        jupyter.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", token);
        var kernel = await (await jupyter.PostAsJsonAsync(root + "api/kernels", new { name = "python3" })).Content.ReadFromJsonAsync<JsonElement>();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"token {token}");
        await socket.ConnectAsync(new Uri($"{root.Replace("http://", "ws://")}api/kernels/{kernel.GetProperty("id").GetString()}/channels"), CancellationToken.None);
        // A kernel still starting can miss a request sent too early, so it is asked until it answers first.
        await WaitForKernelReplyAsync(socket);
        // Long enough for a loaded machine's Jupyter to show it busy, and to outlast the idle one's culling.
        var running = await ExecuteAsync(socket, "import time; time.sleep(20)");
        await ReceiveAsync(socket, m => JupyterKernelSocket.TypeOf(m) == "execute_input" && JupyterKernelSocket.ParentOf(m) == running,
            failure: "the kernel never began running the code");
        await WaitForKernelBusyAsync(jupyter, root);

        // Culling on for the account: 4 "minutes" idle, warned 2 before.
        await WithDbAsync(db => db.Accounts.Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.IdleCullMinutes, 4).SetProperty(a => a.IdleWarningMinutes, 2)));

        var warning = await WaitForNotificationAsync(userId, "deployment.idle-warning", "Idle notebook");
        Assert.Equal("Your notebook 'Idle notebook' will be stopped in 2 min for inactivity; open it to keep it.", warning.Message);
        Assert.Equal($"/ide/{idle}/", warning.Link);
        var stopped = await _workers.WaitForAsync(idle, d => d.Observed == ObservedState.Stopped, TimeSpan.FromSeconds(60));
        Assert.Equal(DesiredState.Stopped, stopped.Desired);
        var events = await _workers.EventsAsync(idle);
        Assert.Contains("Stopped after 4 min idle", events);
        Assert.Contains("Stopped: the workspace is kept for the next start", events);
        Assert.True(File.Exists(kept), "the workspace of a culled notebook is kept");
        var told = await WaitForNotificationAsync(userId, "deployment.idle-stopped", "Idle notebook");
        Assert.Equal("Your notebook 'Idle notebook' was stopped after 4 min of inactivity. Its workspace is kept: start it again when you need it.", told.Message);
        Assert.Equal(1, await WithDbAsync(db => db.Notifications.CountAsync(n => n.Kind == "deployment.idle-warning" && n.Message.Contains("Idle notebook"))));

        // Meanwhile the busy one was neither warned nor stopped, and its use was recorded.
        var stillBusy = await WithDbAsync(db => db.Deployments.AsNoTracking().SingleAsync(d => d.Id == busy));
        Assert.Equal(DesiredState.Running, stillBusy.Desired);
        Assert.Null(stillBusy.IdleWarnedAt);
        Assert.True(stillBusy.LastActivityAt > DateTimeOffset.UtcNow.AddSeconds(-3), $"last activity {stillBusy.LastActivityAt}");
        Assert.Equal(0, await WithDbAsync(db => db.Notifications.CountAsync(n => n.Message.Contains("Busy notebook"))));

        // Once the code ends it is idle: warned; then used (a tracked API request), which clears the warning.
        await WaitForNotificationAsync(userId, "deployment.idle-warning", "Busy notebook", TimeSpan.FromSeconds(40));
        (await jupyter.GetAsync(root + "api/contents")).EnsureSuccessStatusCode();
        await _workers.WaitForAsync(busy, d => d.IdleWarnedAt == null || d.Desired == DesiredState.Stopped, TimeSpan.FromSeconds(30));
        var afterUse = await WithDbAsync(db => db.Deployments.AsNoTracking().SingleAsync(d => d.Id == busy));
        Assert.Equal(DesiredState.Running, afterUse.Desired);

        // Left alone again, it is warned a second time and stopped.
        await _workers.WaitForAsync(busy, d => d.Observed == ObservedState.Stopped, TimeSpan.FromSeconds(40));
        Assert.Equal(2, await WithDbAsync(db => db.Notifications.CountAsync(n => n.Kind == "deployment.idle-warning" && n.Message.Contains("Busy notebook"))));
    }

    [Fact]
    public async Task ARunningCodeServer_SaysWhenAClientWasLastConnected()
    {
        var userId = await _workers.CreateUserAsync("Editor Owner");
        var accountId = await WithDbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.CurrentAccountId!.Value).SingleAsync());
        var created = await _workers.WithServiceAsync(service => service.CreateAsync(userId,
            new CreateDeploymentRequest(accountId, "development", "Editor", null, "vscode", null, null, null, null, null, null, null, "open sesame 42")));
        var running = await _workers.WaitForAsync(DeploymentHost.Ok(created).Value!.Id, d => d.Observed == ObservedState.Running);

        var report = await _workers.Services.GetRequiredService<Platform.Workers.Deployments.IdeActivityProbe>()
            .AskAsync(Platform.Core.Catalog.ModuleService.VsCode, running.Address!, WorkloadSpec.BaseUrlFor(running.Id), null, CancellationToken.None);
        Assert.NotNull(report);
        Assert.False(report.Busy);
        Assert.Equal("no client connected", report.Detail);
    }

    private async Task<Guid> DeployAsync(Guid userId, Guid accountId, string title)
    {
        var created = await _workers.WithServiceAsync(service => service.CreateAsync(userId,
            new CreateDeploymentRequest(accountId, "development", title, null, "jupyter", null, null, null, null, null, null, null, "open sesame 42")));
        return DeploymentHost.Ok(created).Value!.Id;
    }

    private string ServiceToken(Deployment d) => _workers.Services.GetRequiredService<WorkloadSpecs>().ServiceTokenOf(d)!;

    private static Task<string> ExecuteAsync(ClientWebSocket socket, string code) => JupyterKernelSocket.SendAsync(socket, "execute_request",
        new { code, silent = false, store_history = false, user_expressions = new { }, allow_stdin = false, stop_on_error = true });

    /// <summary>
    /// Asks kernel_info every second until one is answered (a socket's receive cannot be cancelled without aborting it,
    /// so the asking runs beside one reader).
    /// </summary>
    private static async Task WaitForKernelReplyAsync(ClientWebSocket socket)
    {
        var asked = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        using var answered = new CancellationTokenSource();
        var asking = Task.Run(async () =>
        {
            while (!answered.IsCancellationRequested)
            {
                asked[await JupyterKernelSocket.SendAsync(socket, "kernel_info_request", new { })] = true;
                await Task.Delay(1000, answered.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
        try
        {
            await ReceiveAsync(socket, m => JupyterKernelSocket.TypeOf(m) == "kernel_info_reply" && JupyterKernelSocket.ParentOf(m) is { } p && asked.ContainsKey(p),
                TimeSpan.FromSeconds(60), "the kernel never answered kernel_info_request");
        }
        finally
        {
            answered.Cancel();
            await asking;
        }
    }

    /// <summary>Reads kernel messages until one matches, failing the test when none does in time.</summary>
    private static async Task ReceiveAsync(ClientWebSocket socket, Func<JsonElement, bool> match, TimeSpan? within = null, string? failure = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(20));
        try
        {
            while (!match(await JupyterKernelSocket.ReceiveAsync(socket, timeout.Token)))
            {
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail(failure ?? "the kernel did not send the expected message in time");
        }
    }

    private static async Task WaitForKernelBusyAsync(HttpClient jupyter, string root)
    {
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (DateTime.UtcNow < deadline)
        {
            var kernels = await jupyter.GetFromJsonAsync<JsonElement>(root + "api/kernels?no_track_activity=1");
            if (kernels.EnumerateArray().Any(k => k.GetProperty("execution_state").GetString() == "busy"))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the kernel never reported busy");
    }

    private async Task<Platform.Core.Notifications.Notification> WaitForNotificationAsync(Guid userId, string kind, string about, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var found = await WithDbAsync(db => db.Notifications.AsNoTracking()
                .Where(n => n.UserId == userId && n.Kind == kind && n.Message.Contains(about)).OrderBy(n => n.Id).FirstOrDefaultAsync());
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"no {kind} notification about {about}");
        return null!;
    }

    private async Task<T> WithDbAsync<T>(Func<PlatformDbContext, Task<T>> action)
    {
        using var scope = _workers.Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<PlatformDbContext>());
    }
}
