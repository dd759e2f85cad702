using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Platform.AppHost.Tests;

/// <summary>
/// Issue 6's "done when", on the real platform (Debian's Jupyter, the process backend, Debian's Chromium): a script
/// started from a notebook logs loss and accuracy for 10,000 steps; a board open in a second browser shows both lines
/// growing live, without reloading; every point is stored once. The same script as a job from the notebook: the
/// finished job's page shows the final plot. Nobody else sees the run.
/// </summary>
[Collection(JupyterPlatform.Collection)]
public sealed class BoardJourneyTests(JupyterPlatform platform)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AScriptInANotebookLogs10000Steps_ABoardInABrowserGrowsLive_AndTheFinishedJobShowsTheFinalPlot()
    {
        const string email = "board-owner@example.test";
        using var owner = await PlatformSession.SignUpAsync(platform.Url, email);
        using var stranger = await PlatformSession.SignUpAsync(platform.Url, "board-stranger@example.test");

        const string password = "board journey 42";
        var deploymentId = await owner.CreateJupyterAsync("board notebook", password);
        await owner.WaitForAsync(deploymentId, "running", Timeout);
        var jupyter = new JupyterThroughTheFrontDoor(owner, deploymentId);
        await jupyter.LoginAsync(password);
        Assert.True((await jupyter.SendAsync(HttpMethod.Put, "api/contents/board", new { type = "directory" })).IsSuccessStatusCode);
        var script = await File.ReadAllTextAsync(Path.Combine(StartedPlatform.RepositoryRoot, "Notebook", "examples", "live-board", "train_board.py"));
        var written = await jupyter.SendAsync(HttpMethod.Put, "api/contents/board/train_board.py", new { type = "file", format = "text", content = script });
        Assert.True(written.IsSuccessStatusCode, await written.Content.ReadAsStringAsync());

        // The script runs beside the kernel (as `!python3 train_board.py &` would), with the notebook's credentials.
        var kernel = await jupyter.StartKernelAsync();
        var started = await jupyter.ExecuteAsync(kernel, """
            import os, subprocess, sys
            os.chdir("board")
            script = subprocess.Popen([sys.executable, "train_board.py", "--steps", "10000", "--rate", "400"],
                                      stdout=open("script.log", "w"), stderr=subprocess.STDOUT)
            str(script.pid)
            """, Timeout);
        Assert.True(int.TryParse(started.Trim('\''), out _), started);

        var run = await WaitForAsync(async () =>
        {
            var list = await owner.Http.GetFromJsonAsync<JsonElement>("/api/v1/runs?kind=experiment");
            return list.GetProperty("items").EnumerateArray().FirstOrDefault(r => r.GetProperty("pointCount").GetInt64() > 0);
        }, r => r.ValueKind == JsonValueKind.Object, "the notebook's run");
        var runId = run.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/Runs/{runId}")).StatusCode);

        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        var url = platform.Url.ToString().TrimEnd('/');
        await browser.SignInAsync(url, email, PlatformSession.Password);

        // The board, opened while the script logs: both lines grow without the page reloading.
        await page.GotoAsync($"{url}/Runs/{runId}");
        await Assertions.Expect(page.Locator("[data-board]")).ToHaveAttributeAsync("data-board-ready", "true", new() { Timeout = 60_000 });
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        const string plotted = """
            name => Math.max(0, ...[...document.querySelectorAll('.board-chart')]
                .flatMap(d => (d.data || []).filter(t => t.name === name).map(t => (t.x || []).length)))
            """;
        var firstLoss = await page.EvaluateAsync<int>($"({plotted})('loss')");
        var firstAccuracy = await page.EvaluateAsync<int>($"({plotted})('accuracy')");
        Assert.True(firstLoss > 0 && firstAccuracy > 0, $"loss {firstLoss}, accuracy {firstAccuracy} points on the board");
        await page.WaitForFunctionAsync(
            $"() => ({plotted})('loss') >= {firstLoss + 500} && ({plotted})('accuracy') >= {firstAccuracy + 500}", null, new() { Timeout = 60_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the board reloaded instead of growing");

        // The script ends: every point stored once, the run finished, its graph as draw_board declared it.
        var finished = await WaitForAsync(
            () => owner.Http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}"),
            r => r.GetProperty("state").GetString() == "finished", "the run to finish");
        Assert.Equal(20_000, finished.GetProperty("pointCount").GetInt64());
        Assert.Equal(0, finished.GetProperty("dropped").GetInt64());
        var series = finished.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["accuracy", "loss"], series.Keys.Order());
        Assert.All(series.Values, s => Assert.Equal(9_999, s.GetProperty("lastStep").GetInt64()));
        var graph = Assert.Single(finished.GetProperty("graphs").EnumerateArray());
        Assert.Equal("training", graph.GetProperty("title").GetString());
        await page.WaitForFunctionAsync($"() => ({plotted})('loss') > 0 && document.querySelector('.board-chart').data.some(t => t.name === 'loss' && t.x[t.x.length - 1] === 9999)");

        // The same script as a job from the notebook; the finished job's page shows the final plot.
        var submitted = await jupyter.ExecuteAsync(kernel, """
            import platformsdk
            job = platformsdk.create_cloud_job("board-job", num_trainer=1, mem_per_trainer="256Mi", cpu_per_trainer=0.5,
                                               command="python3 train_board.py --steps 10000 --rate 0", code_dir=".")
            job["id"]
            """, Timeout);
        var jobId = Guid.Parse(submitted.Trim('\''));
        var job = await WaitForAsync(
            () => owner.Http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}"),
            j => j.GetProperty("state").GetString() is "succeeded" or "failed" or "stopped", "the job to end");
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString());
        var jobRun = await owner.Http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/by-job/{jobId}");
        Assert.Equal(20_000, jobRun.GetProperty("pointCount").GetInt64());
        Assert.Equal(jobId, jobRun.GetProperty("jobId").GetGuid());

        await page.GotoAsync($"{url}/Jobs/{jobId}");
        var jobBoard = page.Locator("[data-board][data-mode='job']");
        await Assertions.Expect(jobBoard).ToHaveAttributeAsync("data-board-ready", "true", new() { Timeout = 60_000 });
        var names = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('[data-mode=job] .board-chart')].flatMap(d => d.data.map(t => t.name)).filter(n => n === 'loss' || n === 'accuracy')");
        Assert.Contains("loss", names);
        Assert.Contains("accuracy", names);
        var lastStep = await page.EvaluateAsync<double>(
            "() => Math.max(...[...document.querySelectorAll('[data-mode=job] .board-chart')].flatMap(d => d.data.filter(t => t.name === 'loss').map(t => t.x[t.x.length - 1])))");
        Assert.True(lastStep >= 9_900, $"the job page's plot ends at step {lastStep}");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/v1/runs/by-job/{jobId}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/v1/deployments/{deploymentId}")).StatusCode);
        await owner.WaitUntilDeletedAsync(deploymentId, Timeout);
        await platform.WaitUntilGoneAsync(deploymentId, Timeout);
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {what} within {Timeout.TotalSeconds:0} s: {value}");
            await Task.Delay(250);
        }
    }
}
