using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Catalog;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Web.Tests.FrontDoor;

namespace Platform.Web.Tests.Pages;

/// <summary>/ide/{id}/… reaches a running deployment's server for its owner and the users it is shared with, and nobody else.</summary>
public sealed class IdeProxyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Ide_IsForwardedForItsOwnerWhileRunning_AndIsNotFoundForEveryoneElse()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var owner = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var id = await RunningDeploymentAsync(owner.Email, upstream.Address);

        var page = await owner.GetAsync($"/ide/{id}/api/contents/notes.txt?type=file");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        var echo = JsonDocument.Parse(page.Html).RootElement;
        Assert.Equal($"/ide/{id}/api/contents/notes.txt?type=file", echo.GetProperty("rawTarget").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/ide/{id}/api/contents")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/ide/{Guid.NewGuid()}/api")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("/ide/not-a-guid/api")).Status);
        var visitor = await app.NewBrowser().GetAsync($"/ide/{id}/api");
        Assert.Equal(HttpStatusCode.Redirect, visitor.Status);
        Assert.Contains("/Account/Login", visitor.Location!.OriginalString);

        // Stopped (or on its way to stopping): nothing to reach.
        await using (var db = app.Db())
        {
            await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Desired, DesiredState.Stopped));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/ide/{id}/api")).Status);
    }

    [Fact]
    public async Task Ide_IsForwardedForASharee_AndNotFoundForAnUnsharedUser_OrOnceUnshared()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var owner = await app.NewUserAsync();
        var sharee = await app.NewUserAsync();
        var unshared = await app.NewUserAsync();
        var id = await RunningDeploymentAsync(owner.Email, upstream.Address);
        Assert.Equal(HttpStatusCode.NotFound, (await sharee.GetAsync($"/ide/{id}/api/contents")).Status);

        // Shared the way the owner does it: the form on the deployment's page.
        var shared = await owner.PostAsync($"/Deployments/{id}?handler=Share", [KeyValuePair.Create("ShareEmail", sharee.Email)], $"/Deployments/{id}");
        Assert.Equal(HttpStatusCode.Redirect, shared.Status);

        var page = await sharee.GetAsync($"/ide/{id}/api/contents/notes.txt?type=file");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal($"/ide/{id}/api/contents/notes.txt?type=file", JsonDocument.Parse(page.Html).RootElement.GetProperty("rawTarget").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await unshared.GetAsync($"/ide/{id}/api/contents")).Status);

        await using (var db = app.Db())
        {
            await db.DeploymentShares.Where(s => s.DeploymentId == id).ExecuteDeleteAsync();
        }

        Assert.Equal(HttpStatusCode.NotFound, (await sharee.GetAsync($"/ide/{id}/api/contents")).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/ide/{id}/api/contents")).Status);
    }

    [Fact]
    public async Task VsCode_SeesPathsBelowThePrefix_AndTheBarePrefixGetsItsSlash()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var owner = await app.NewUserAsync();
        var id = await RunningDeploymentAsync(owner.Email, upstream.Address, ModuleService.VsCode);

        var page = await owner.GetAsync($"/ide/{id}/static/out/main.js?v=1");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var echo = JsonDocument.Parse(page.Html).RootElement;
        Assert.Equal("/static/out/main.js?v=1", echo.GetProperty("rawTarget").GetString());

        // code-server's redirects are relative ("./login"): from /ide/{id} they would leave the prefix.
        var bare = await owner.GetAsync($"/ide/{id}?folder=/w");
        Assert.Equal(HttpStatusCode.Redirect, bare.Status);
        Assert.Equal($"/ide/{id}/?folder=/w", bare.Location!.OriginalString);
    }

    /// <summary>
    /// Real code-server, started by the process backend as Workers would, reached through the front door: its
    /// relative redirects stay under the prefix, its login cookie is scoped to it, and its WebSocket connects.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task RealCodeServer_SignsInAndOpensItsWebSocket_ThroughTheProxy()
    {
        Assert.True(ProcessBackend.OnPath("code-server") is not null,
            "code-server is not installed: run Notebook/images/install-code-server.sh (as .ci/run does)");
        var root = Path.Combine(Path.GetTempPath(), $"platform-web-ws-{Guid.NewGuid():N}");
        var backend = new ProcessBackend(new ProcessBackendOptions(root));
        var cookies = new CookieContainer();
        var owner = new Browser(app.Factory.CreateDefaultClient(new Uri(WebAppFixture.PublicUrl), new CookieContainerHandler(cookies)));
        await owner.RegisterAsync(WebAppFixture.NewEmail("coder"), "Coder");
        var id = await RunningDeploymentAsync(owner.Email, new Uri("http://127.0.0.1:1"), ModuleService.VsCode);
        const string password = "code server pass 42";
        var spec = new WorkloadSpec(id, "development", ModuleService.VsCode, new ResourceRequest(1, 0, 2048, 1), DeploymentTemplate.Minimal,
            [], null, password, new Dictionary<string, string>(), "token", []);
        try
        {
            var started = await backend.StartAsync(spec, null, new Progress<string>(), CancellationToken.None);
            await WaitForHealthAsync(started.Address);
            await using (var db = app.Db())
            {
                await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Address, started.Address));
            }

            var prefix = $"/ide/{id}/";
            var anonymous = await owner.GetAsync(prefix);
            Assert.Equal(HttpStatusCode.Found, anonymous.Status);
            Assert.Equal("./login", anonymous.Location!.OriginalString);
            var login = await owner.Client.PostAsync(prefix + "login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                // What its login page sends: the password, and base and href to scope the cookie to the page's path.
                ["password"] = password, ["base"] = ".", ["href"] = $"{WebAppFixture.PublicUrl}{prefix}login",
            }));
            Assert.Equal(HttpStatusCode.Found, login.StatusCode);
            Assert.Contains(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("code-server-session=", StringComparison.Ordinal) && c.Contains($"Path=/ide/{id}"));
            var opened = await owner.GetAsync(prefix);
            Assert.Equal(HttpStatusCode.Found, opened.Status);
            Assert.StartsWith("./?folder=", opened.Location!.OriginalString);
            var workbench = await owner.GetAsync(prefix + opened.Location.OriginalString[2..]);
            Assert.Equal(HttpStatusCode.OK, workbench.Status);
            Assert.Contains("workbench", workbench.Html);

            var sockets = app.Factory.Server.CreateWebSocketClient();
            sockets.ConfigureRequest = request =>
            {
                request.Headers.Cookie = cookies.GetCookieHeader(new Uri($"{WebAppFixture.PublicUrl}{prefix}"));
                request.Headers.Origin = WebAppFixture.PublicUrl;
            };
            var target = new Uri($"{WebAppFixture.PublicUrl.Replace("http", "ws", StringComparison.Ordinal)}{prefix}?reconnectionToken={Guid.NewGuid()}&reconnection=false&skipWebSocketFrames=false");
            using var socket = await sockets.ConnectAsync(target, CancellationToken.None);
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.State);
        }
        finally
        {
            await backend.DeleteAsync(id, null, CancellationToken.None);
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task WaitForHealthAsync(string address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 300; i++)
        {
            try
            {
                if ((await http.GetAsync($"{address}/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        Assert.Fail($"code-server did not answer at {address}/healthz");
    }

    private async Task<Guid> RunningDeploymentAsync(string ownerEmail, Uri address, ModuleService service = ModuleService.Jupyter)
    {
        await using var db = app.Db();
        var owner = await db.Users.Where(u => u.Email == ownerEmail).Select(u => new { u.Id, u.CurrentAccountId }).SingleAsync();
        var now = DateTimeOffset.UtcNow;
        var deployment = new Deployment
        {
            Id = Guid.CreateVersion7(),
            AccountId = owner.CurrentAccountId!.Value,
            OwnerUserId = owner.Id,
            Module = "development",
            Title = "notebook",
            Service = service,
            Cpus = 1,
            MemoryMiB = 1024,
            DiskGiB = 1,
            PasswordProtected = "not read by the proxy",
            Desired = DesiredState.Running,
            Observed = ObservedState.Running,
            Backend = "process",
            Address = address.ToString(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync();
        return deployment.Id;
    }
}
