using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.AppHost.Tests;

/// <summary>
/// A notebook user on the real platform (process backend, Debian's Jupyter), all through Web's front door: deploy a
/// Jupyter through the API, log into it with the deployment's password, run code on a kernel over its websocket, keep
/// a file across a stop and a start, and delete it all. Nobody else reaches the notebook.
/// </summary>
[Collection(JupyterPlatform.Collection)]
public sealed class NotebookJourneyTests(JupyterPlatform platform)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task JupyterDeployment_RunsCodeOnAKernel_KeepsFilesAcrossStopAndStart_AndIsOnlyItsOwners()
    {
        using var owner = await PlatformSession.SignUpAsync(platform.Url, "notebook-owner@example.test");
        using var stranger = await PlatformSession.SignUpAsync(platform.Url, "notebook-stranger@example.test");
        const string password = "kernel pass 42";
        var id = await owner.CreateJupyterAsync("journey notebook", password);
        var running = await owner.WaitForAsync(id, "running", StartTimeout);
        Assert.Equal($"/ide/{id}/", new Uri(platform.Url, running.GetProperty("url").GetString()!).AbsolutePath);

        // Jupyter's own password stands behind the platform's sign-in: its API refuses until the login.
        var jupyter = new JupyterThroughTheFrontDoor(owner, id);
        Assert.Equal(HttpStatusCode.Forbidden, (await jupyter.GetAsync("api/kernels")).StatusCode);
        await jupyter.LoginAsync(password);
        var kernel = await jupyter.StartKernelAsync();
        Assert.Equal("2", await jupyter.ExecuteAsync(kernel, "1+1", TimeSpan.FromSeconds(60)));

        var written = await jupyter.SendAsync(HttpMethod.Put, "api/contents/notes.txt", new { type = "file", format = "text", content = "kept across restarts" });
        Assert.True(written.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)written.StatusCode} {await written.Content.ReadAsStringAsync()}");

        // Someone else, signed in, gets nothing: not the IDE, not its login page, not the deployment.
        foreach (var path in new[] { $"/ide/{id}/api/contents/notes.txt", $"/ide/{id}/login", $"/ide/{id}/tree" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync(path)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/v1/deployments/{id}")).StatusCode);

        await owner.PostAsync($"/api/v1/deployments/{id}/stop");
        await owner.WaitForAsync(id, "stopped", StartTimeout);
        Assert.Empty(JupyterProcesses.Of(id));
        Assert.Equal(HttpStatusCode.NotFound, (await owner.Http.GetAsync($"/ide/{id}/api")).StatusCode);

        await owner.PostAsync($"/api/v1/deployments/{id}/start");
        await owner.WaitForAsync(id, "running", StartTimeout);
        await jupyter.LoginAsync(password);
        var file = await jupyter.GetAsync("api/contents/notes.txt");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("kept across restarts", (await file.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("content").GetString());
        Assert.Single(JupyterProcesses.Of(id));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/v1/deployments/{id}")).StatusCode);
        await owner.WaitUntilDeletedAsync(id, StartTimeout);
        await platform.WaitUntilGoneAsync(id, StartTimeout);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.Http.GetAsync($"/ide/{id}/api")).StatusCode);
    }
}

/// <summary>Jupyter processes serving a deployment, found by the base URL on their command line.</summary>
public static class JupyterProcesses
{
    public static IReadOnlyList<int> Of(Guid deploymentId)
    {
        var marker = $"/ide/{deploymentId}/";
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var state = File.ReadAllText(Path.Combine(directory, "stat"));
                // A zombie holds nothing; the prlimit wrapper execs Jupyter, so one process per workload.
                if (commandLine.Contains("jupyter", StringComparison.Ordinal) && commandLine.Contains(marker, StringComparison.Ordinal)
                    && state[(state.LastIndexOf(')') + 2)] != 'Z')
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone while reading.
            }
        }

        return found;
    }
}
