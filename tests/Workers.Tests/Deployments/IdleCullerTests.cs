using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;
using Platform.Workers.Deployments;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// The idle culler against real Jupyter servers started by the real reconciler (process backend), with "minutes" one
/// second long: an idle notebook is warned, then stopped with its workspace kept; a notebook whose kernel runs code
/// is left alone until the code ends, and use after the warning clears it.
/// </summary>
public sealed class IdleCullerTests : IAsyncLifetime
{
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-idle-{Guid.NewGuid():N}");
    private WebApplicationFactory<WorkersMarker> _workers = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        _database = await server.CreateDatabaseAsync("idle");
        await DatabaseMigrator.MigrateAsync(_database);
        _workers = new WebApplicationFactory<WorkersMarker>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:platformdb", _database);
            b.UseSetting("Platform:PublicUrl", "http://platform.test");
            b.UseSetting("Platform:Deployments:WorkspaceRoot", _workspaces);
            b.UseSetting("Platform:IdleCulling:Minute", "00:00:01");
            b.UseSetting("Platform:IdleCulling:CheckInterval", "00:00:00.500");
            b.UseSetting("Platform:Deployments:Reconciler:ResyncInterval", "00:00:00.500");
            b.ConfigureServices(s =>
            {
                s.RemoveAll<IModuleCatalog>();
                s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default);
            });
        });
        _ = _workers.Server;
    }

    public async Task DisposeAsync()
    {
        using (var scope = _workers.Services.CreateScope())
        {
            var backend = scope.ServiceProvider.GetRequiredService<ProcessBackend>();
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            foreach (var d in await db.Deployments.AsNoTracking().ToListAsync())
            {
                await backend.DeleteAsync(d.Id, d.BackendState, CancellationToken.None);
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
        var (userId, accountId) = await CreateUserAsync();
        var idle = await DeployAsync(userId, accountId, "Idle notebook");
        var busy = await DeployAsync(userId, accountId, "Busy notebook");
        var idleRunning = await WaitForAsync(idle, d => d.Observed == ObservedState.Running);
        var busyRunning = await WaitForAsync(busy, d => d.Observed == ObservedState.Running);
        var kept = Path.Combine(_workers.Services.GetRequiredService<ProcessBackend>().WorkspaceOf(idle), "analysis.ipynb");
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
        await ExecuteAsync(socket, "import time; time.sleep(14)");
        await WaitForKernelBusyAsync(jupyter, root);

        // Culling on for the account: 4 "minutes" idle, warned 2 before.
        await WithDbAsync(db => db.Accounts.Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.IdleCullMinutes, 4).SetProperty(a => a.IdleWarningMinutes, 2)));

        var warning = await WaitForNotificationAsync(userId, "deployment.idle-warning", "Idle notebook");
        Assert.Equal("Your notebook 'Idle notebook' will be stopped in 2 min for inactivity; open it to keep it.", warning.Message);
        Assert.Equal($"/ide/{idle}/", warning.Link);
        var stopped = await WaitForAsync(idle, d => d.Observed == ObservedState.Stopped);
        Assert.Equal(DesiredState.Stopped, stopped.Desired);
        var events = await WithDbAsync(db => db.DeploymentEvents.Where(e => e.DeploymentId == idle).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync());
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
        await WaitForAsync(busy, d => d.IdleWarnedAt == null || d.Desired == DesiredState.Stopped);
        var afterUse = await WithDbAsync(db => db.Deployments.AsNoTracking().SingleAsync(d => d.Id == busy));
        Assert.Equal(DesiredState.Running, afterUse.Desired);

        // Left alone again, it is warned a second time and stopped.
        await WaitForAsync(busy, d => d.Observed == ObservedState.Stopped, TimeSpan.FromSeconds(40));
        Assert.Equal(2, await WithDbAsync(db => db.Notifications.CountAsync(n => n.Kind == "deployment.idle-warning" && n.Message.Contains("Busy notebook"))));
    }

    private async Task<(Guid UserId, Guid AccountId)> CreateUserAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser
        {
            Id = Guid.CreateVersion7(), UserName = "idle@example.test", NormalizedUserName = "IDLE@EXAMPLE.TEST", Email = "idle@example.test",
            NormalizedEmail = "IDLE@EXAMPLE.TEST", DisplayName = "Idle Owner", CreatedAt = now, SecurityStamp = Guid.NewGuid().ToString(),
        };
        var account = new Account { Id = Guid.CreateVersion7(), Name = "Lab", CreatedAt = now, IdleCullMinutes = 0 };
        await WithDbAsync(async db =>
        {
            db.Users.Add(user);
            db.Accounts.Add(account);
            db.Memberships.Add(new Membership { AccountId = account.Id, UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
            return await db.SaveChangesAsync();
        });
        return (user.Id, account.Id);
    }

    private async Task<Guid> DeployAsync(Guid userId, Guid accountId, string title)
    {
        using var scope = _workers.Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<DeploymentService>().CreateAsync(userId,
            new CreateDeploymentRequest(accountId, "development", title, null, "jupyter", null, null, null, null, null, null, null, "open sesame 42"));
        Assert.True(created.IsSuccess, created.Error?.Message);
        return created.Value!.Id;
    }

    private string ServiceToken(Deployment d) => _workers.Services.GetRequiredService<WorkloadSpecs>().ServiceTokenOf(d)!;

    private static async Task ExecuteAsync(ClientWebSocket socket, string code)
    {
        var message = JsonSerializer.Serialize(new
        {
            header = new { msg_id = Guid.NewGuid().ToString("N"), username = "test", session = Guid.NewGuid().ToString("N"), msg_type = "execute_request", version = "5.3", date = DateTimeOffset.UtcNow.ToString("O") },
            parent_header = new { },
            metadata = new { },
            content = new { code, silent = false, store_history = false, user_expressions = new { }, allow_stdin = false, stop_on_error = true },
            channel = "shell",
            buffers = Array.Empty<object>(),
        });
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
    }

    private static async Task WaitForKernelBusyAsync(HttpClient jupyter, string root)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
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

    private async Task<Deployment> WaitForAsync(Guid id, Func<Deployment, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        Deployment d;
        do
        {
            d = await WithDbAsync(db => db.Deployments.AsNoTracking().SingleAsync(x => x.Id == id));
            if (condition(d))
            {
                return d;
            }

            if (d.Observed == ObservedState.Failed)
            {
                Assert.Fail($"deployment failed: {d.Reason}");
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"deployment {id} stayed {d.Desired}/{d.Observed} (warned {d.IdleWarnedAt}, last activity {d.LastActivityAt})");
        return d;
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
