using System.Net;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// The reconciler with the process backend and real code-server (Notebook/images/install-code-server.sh; .ci/run
/// installs it). It serves at its root: the IDE proxy strips <c>/ide/{id}</c> for it (Web.Tests covers that part).
/// </summary>
[Trait("Category", "Slow")]
public sealed class CodeServerDeploymentTests : IDisposable
{
    private const string Password = "code server pass 42";
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-ws-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_workspaces))
        {
            Directory.Delete(_workspaces, recursive: true);
        }
    }

    [Fact]
    public async Task CodeServer_Runs_BehindItsPassword_AndKeepsItsWorkspaceAcrossStopAndStart()
    {
        Assert.True(ProcessBackend.OnPath("code-server") is not null,
            "code-server is not installed: run Notebook/images/install-code-server.sh (as .ci/run does)");
        await using var host = new DeploymentHost(await DeploymentHost.NewDatabaseAsync("vscode"), _workspaces);
        _ = host.Server;
        var userId = await host.CreateUserAsync("linus");
        var request = DeploymentHost.Jupyter(Password) with { Service = "vscode", Title = "Editor" };
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, request))).Value!.Id;

        var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);
        Assert.Contains("Starting: launching VS Code (code-server)", await host.EventsAsync(id));
        var workspace = host.Backend.WorkspaceOf(id);
        Assert.DoesNotContain(Password, await File.ReadAllTextAsync(host.Backend.LogOf(id)));
        await File.WriteAllTextAsync(Path.Combine(workspace, "kept.txt"), "written in the workspace");

        using (var client = new CodeServerClient(running.Address!))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
            var anonymous = await client.GetAsync("");
            Assert.Equal(HttpStatusCode.Found, anonymous.StatusCode);
            Assert.Equal("./login", anonymous.Headers.Location?.OriginalString);
            Assert.Equal(HttpStatusCode.OK, await client.LoginAsync("wrong password"));
            Assert.Equal(HttpStatusCode.Found, (await client.GetAsync("")).StatusCode);
            Assert.Equal(HttpStatusCode.Found, await client.LoginAsync(Password));
            // Signed in, it opens the workspace folder.
            var opened = await client.GetAsync("");
            Assert.Equal($"./?folder={workspace}", opened.Headers.Location?.OriginalString);
            var page = await client.GetAsync($"?folder={workspace}");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("workbench", await page.Content.ReadAsStringAsync());
        }

        // Its settings and extensions stay in the private folder, out of the user's files.
        Assert.True(Directory.Exists(Path.Combine(workspace, ".platform", "code-server", "user-data")));
        Assert.Equal(["README.md", "kept.txt"], Directory.GetFileSystemEntries(workspace).Select(e => Path.GetFileName(e)).Where(n => n != ".platform").Order(StringComparer.Ordinal).ToList());

        var first = DeploymentHost.Record(running);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);
        Assert.False(ProcessBackend.IsAlive(first));

        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation);
        Assert.Equal(ObservedState.Running, again.Observed);
        Assert.Equal("written in the workspace", await File.ReadAllTextAsync(Path.Combine(workspace, "kept.txt")));
        using (var client = new CodeServerClient(again.Address!))
        {
            Assert.Equal(HttpStatusCode.Found, await client.LoginAsync(Password));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"?folder={workspace}")).StatusCode);
        }

        Assert.True(await host.WithServiceAsync(async s => (await s.DeleteAsync(userId, id)).IsSuccess));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
        Assert.False(ProcessBackend.IsAlive(DeploymentHost.Record(again)));
        Assert.False(Directory.Exists(workspace));
    }

    /// <summary>Signs in as code-server's login page does: the password, and the page's base and href to scope the cookie.</summary>
    private sealed class CodeServerClient(string address) : IDisposable
    {
        private readonly HttpClient _http = new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

        public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync($"{address}/{path}");

        public async Task<HttpStatusCode> LoginAsync(string password)
        {
            var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["password"] = password, ["base"] = ".", ["href"] = $"{address}/login",
            });
            using var response = await _http.PostAsync($"{address}/login", form);
            return response.StatusCode;
        }

        public void Dispose() => _http.Dispose();
    }
}
