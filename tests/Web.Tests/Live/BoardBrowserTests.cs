using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// The training boards (js/board.js) in Debian's Chromium against the Api (metrics REST API, live hub) behind Web's front
/// door: a board grows while points are posted, smoothing, log scale and the time axis change the plot, non-finite values
/// and dropped points are shown, runs compare, the job page shows its plot, exports download, another user gets 404,
/// and a run is deleted from the list after confirming. Points go in through the REST API with the browser's session.
/// </summary>
public sealed class BoardBrowserTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Patient = new() { Timeout = 20_000 };

    [Fact]
    public async Task TheBoard_GrowsLive_WhilePointsArePosted()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var id = await s.NewRunAsync("live board");
        await s.GraphAsync(id, "Training", "loss", "accuracy");
        await s.PostPointsAsync(id, Batch(0, 50));

        await s.Page.GotoAsync($"{s.Url}/Runs/{id}");
        var board = s.Page.Locator("[data-board]");
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-ready", "true", Patient);
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-points", "100", Patient);
        Assert.Equal("Training", await s.Page.Locator(".board-chart").First.GetAttributeAsync("data-title"));
        Assert.Equal(1, await s.Page.Locator(".board-chart").CountAsync());
        await s.Page.WaitForFunctionAsync("() => document.documentElement.dataset.live === 'connected'", null, new() { Timeout = 15_000 });
        await s.Page.EvaluateAsync("() => { window.__sameDocument = true; }");

        // A script logging: batches while the page stays open; every batch shows up without a reload.
        var seen = new List<int>();
        for (var batch = 1; batch <= 5; batch++)
        {
            await s.PostPointsAsync(id, Batch(batch * 50, 50));
            var expected = (batch + 1) * 100;
            await Assertions.Expect(board).ToHaveAttributeAsync("data-board-points", expected.ToString(), Patient);
            seen.Add(int.Parse((await board.GetAttributeAsync("data-board-points"))!));
        }

        Assert.Equal([200, 300, 400, 500, 600], seen);
        Assert.True(await s.Page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded");
        // Both series in the one chart, drawn raw (faint) and smoothed, the last step where it should be.
        var lastX = await s.Page.EvaluateAsync<double>("() => { const d = document.querySelector('.board-chart').data; return d[2].x[d[2].x.length - 1]; }");
        Assert.Equal(299, lastX);
    }

    [Fact]
    public async Task Smoothing_LogScale_TimeAxis_NonFiniteValues_AndDroppedPoints_Show()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var id = await s.NewRunAsync("toggles");
        var points = new List<object>();
        for (var step = 0; step < 40; step++)
        {
            object value = step switch { 10 => "NaN", 20 => "Infinity", _ => 1.0 + (step % 7) };
            points.Add(new { name = "loss", step, value });
        }

        await s.PostPointsAsync(id, points, dropped: 1234);
        await s.Page.GotoAsync($"{s.Url}/Runs/{id}");
        var board = s.Page.Locator("[data-board]");
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-ready", "true", Patient);
        await Assertions.Expect(s.Page.Locator("[data-board-dropped]")).ToHaveTextAsync("1,234 points were dropped while the platform was unreachable.");
        await Assertions.Expect(s.Page.Locator("[data-board-dropped]")).ToBeVisibleAsync();

        const string trace = "i => document.querySelector('.board-chart').data[i]";
        // Smoothing on by default: the raw line faint, the smoothed line drawn, gaps at the non-finite values.
        Assert.True(await s.Page.EvaluateAsync<bool>($"() => ({trace})(3).visible === true"));
        Assert.Equal(0.3, await s.Page.EvaluateAsync<double>($"() => ({trace})(2).opacity"));
        Assert.True(await s.Page.EvaluateAsync<bool>($"() => ({trace})(2).y[10] === null && ({trace})(2).y[20] === null"));
        Assert.Equal("NaN,+Infinity", await s.Page.EvaluateAsync<string>($"() => ({trace})(4).text.join(',')"));
        Assert.Equal("[10,20]", await s.Page.EvaluateAsync<string>($"() => JSON.stringify(({trace})(4).x)"));
        var smoothed = await s.Page.EvaluateAsync<double>($"() => ({trace})(3).y[30]");
        Assert.NotEqual(1.0 + (30 % 7), smoothed);

        // Smoothing off: the raw line alone, opaque.
        await s.Page.EvaluateAsync("() => { const r = document.querySelector('[data-board-smoothing]'); r.value = '0'; r.dispatchEvent(new Event('input')); }");
        await s.Page.WaitForFunctionAsync($"() => ({trace})(3).visible === false && ({trace})(2).opacity === 1");
        await Assertions.Expect(s.Page.Locator("[data-board-smoothing-value]")).ToHaveTextAsync("0.00");

        // Log scale.
        Assert.Equal("linear", await s.Page.EvaluateAsync<string>("() => document.querySelector('.board-chart').layout.yaxis.type"));
        await s.Page.GetByText("Log scale").ClickAsync();
        await s.Page.WaitForFunctionAsync("() => document.querySelector('.board-chart').layout.yaxis.type === 'log'");

        // x by time: a date axis, the points' wall times.
        await s.Page.Locator(".board-toolbar label", new() { HasText = "Time" }).ClickAsync();
        await s.Page.WaitForFunctionAsync("() => document.querySelector('.board-chart').layout.xaxis.type === 'date'");
        var firstX = await s.Page.EvaluateAsync<double>($"() => ({trace})(2).x[0]");
        Assert.InRange(firstX, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task AHugeSeries_OpensFromItsRollups_AndZoomingInLoadsRawPoints()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var id = await s.NewRunAsync("huge");
        // One step every 10 ms of wall time, so the time axis maps to steps too.
        var t0 = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() / 1000.0;
        var points = Enumerable.Range(0, 8000).Select(step => (object)new { name = "loss", step, value = Math.Sin(step / 100.0), at = t0 + step * 0.01 }).ToList();
        await s.PostPointsAsync(id, points);

        await s.Page.GotoAsync($"{s.Url}/Runs/{id}");
        var chart = s.Page.Locator(".board-chart");
        await Assertions.Expect(s.Page.Locator("[data-board]")).ToHaveAttributeAsync("data-board-ready", "true", Patient);
        // Rollup buckets (2^6 steps): the mean as the line, the min/max envelope as a band.
        var overview = int.Parse((await chart.GetAttributeAsync("data-points"))!);
        Assert.InRange(overview, 100, 2000);
        Assert.Equal(overview, await chart.EvaluateAsync<int>("d => d.data[1].x.length"));
        Assert.True(await chart.EvaluateAsync<bool>("d => d.data[1].y.every((max, i) => max >= d.data[0].y[i])"));
        // Drawn first as a still preview, before plotly.js ran; then plotly's chart replaced it.
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-preview", "drawn");
        Assert.Equal(0, await s.Page.Locator(".board-preview").CountAsync());
        Assert.True(await s.Page.EvaluateAsync<bool>("""
            () => { const at = n => performance.getEntriesByName(n)[0].startTime;
                    return at('board-data') <= at('board-first-paint') && at('board-first-paint') <= at('board-plotly') && at('board-plotly') <= at('board-interactive'); }
            """));

        // Zoomed into steps 1000..1400: the raw points of that range.
        await chart.EvaluateAsync("d => Plotly.relayout(d, { 'xaxis.range': [1000, 1400] })");
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-zoom-level", "0", Patient);
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-points", "401", Patient);
        Assert.Equal(1000, await chart.EvaluateAsync<double>("d => d.data[2].x[0]"));

        // Back out: the overview again.
        await chart.EvaluateAsync("d => Plotly.relayout(d, { 'xaxis.autorange': true })");
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-points", overview.ToString(), Patient);

        // On the time axis: zoomed into the 4 s in which steps 2000..2400 were logged, the raw points of (about) those steps.
        await s.Page.Locator("label", new() { HasText = "Time" }).ClickAsync();
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-points", overview.ToString(), Patient);
        await chart.EvaluateAsync($"d => Plotly.relayout(d, {{ 'xaxis.range': [{(long)(t0 * 1000) + 20_000}, {(long)(t0 * 1000) + 24_000}] }})");
        await Assertions.Expect(chart).Not.ToHaveAttributeAsync("data-points", overview.ToString(), Patient);
        Assert.Equal("0", await chart.GetAttributeAsync("data-zoom-level"));
        var zoomed = await chart.EvaluateAsync<double[]>("d => [d.data[2].x.length, d.layout.xaxis.type === 'date' ? 1 : 0]");
        Assert.InRange(zoomed[0], 401, 401 + 2 * 64 + 2);
        Assert.Equal(1, zoomed[1]);
    }

    [Fact]
    public async Task Compare_OverlaysTwoRuns_PickedFromTheList()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var a = await s.NewRunAsync("lr 0.1");
        var b = await s.NewRunAsync("lr 0.01");
        await s.PostPointsAsync(a, Batch(0, 30));
        await s.PostPointsAsync(b, Batch(0, 20));

        await s.Page.GotoAsync($"{s.Url}/Runs");
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{a}']")).ToContainTextAsync("lr 0.1");
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{a}'] .run-points")).ToHaveTextAsync("60");
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{a}'] .run-series")).ToHaveTextAsync("2");
        await s.Page.Locator($"tr.run[data-run-id='{a}'] [data-run-pick]").CheckAsync();
        await s.Page.Locator($"tr.run[data-run-id='{b}'] [data-run-pick]").CheckAsync();
        await s.Page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await s.Page.WaitForURLAsync(new Regex("/Runs/Compare\\?ids="));

        var board = s.Page.Locator("[data-board]");
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-ready", "true", Patient);
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-points", "100", Patient);
        var loss = s.Page.Locator(".board-chart[data-title='loss']");
        Assert.Equal(2, await s.Page.Locator(".board-chart").CountAsync());
        var names = await loss.EvaluateAsync<string[]>("d => d.data.filter((t, i) => i % 5 === 2).map(t => t.name)");
        Assert.Equal(["lr 0.01 · loss", "lr 0.1 · loss"], names.Order());
        var lengths = await loss.EvaluateAsync<int[]>("d => d.data.filter((t, i) => i % 5 === 2).map(t => t.x.length)");
        Assert.Equal([20, 30], lengths.Order());

        // Filters: a name that matches one run.
        await s.Page.GotoAsync($"{s.Url}/Runs?q=0.01");
        Assert.Equal(1, await s.Page.Locator("tr.run").CountAsync());
        await s.Page.GotoAsync($"{s.Url}/Runs?kind=job");
        await Assertions.Expect(s.Page.Locator(".runs-empty")).ToContainTextAsync("No runs match");
    }

    [Fact]
    public async Task TheJobPage_ShowsItsFinalPlot_OrAHint()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var writer = new JobLogWriter(live);
        var withMetrics = await writer.SubmitAsync(s.UserId, s.AccountId);
        var without = await writer.SubmitAsync(s.UserId, s.AccountId);
        var run = await s.NewRunAsync(null, withMetrics);
        await s.PostPointsAsync(run, Batch(0, 25));
        Assert.Equal(200, (await s.PostAsync($"/api/v1/runs/{run}/finish", new { })).Status);

        await s.Page.GotoAsync($"{s.Url}/Jobs/{withMetrics}");
        var board = s.Page.Locator(".job-board [data-board]");
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-ready", "true", Patient);
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-points", "50", Patient);
        Assert.EndsWith($"/Runs/{run}", await s.Page.Locator(".job-board [data-board-link]").GetAttributeAsync("href"));

        await s.Page.GotoAsync($"{s.Url}/Jobs/{without}");
        await Assertions.Expect(s.Page.Locator(".job-board [data-board-status]")).ToContainTextAsync("This job logged no metrics", new() { Timeout = 20_000 });
        Assert.Equal(0, await s.Page.Locator(".job-board .board-chart").CountAsync());
    }

    [Fact]
    public async Task Exports_Download_AndAnotherUser_GetsNotFound_AndDeleteAsksFirst()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var id = await s.NewRunAsync("exported");
        await s.PostPointsAsync(id, Batch(0, 10));
        await s.Page.GotoAsync($"{s.Url}/Runs/{id}");
        await Assertions.Expect(s.Page.Locator("[data-board]")).ToHaveAttributeAsync("data-board-ready", "true", Patient);

        var csv = await s.Page.RunAndWaitForDownloadAsync(() => s.Page.Locator("[data-board-export=csv]").ClickAsync());
        var csvText = await File.ReadAllTextAsync((await csv.PathAsync())!);
        Assert.StartsWith("series,step,time,value", csvText);
        Assert.Equal(21, csvText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var json = await s.Page.RunAndWaitForDownloadAsync(() => s.Page.Locator("[data-board-export=json]").ClickAsync());
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync((await json.PathAsync())!)))
        {
            Assert.Equal(10, doc.RootElement.GetProperty("series").GetProperty("loss").GetArrayLength());
        }

        // Another user: the board, the comparison and the API say "not found".
        var other = await live.NewPersonAsync("Other");
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/Runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/Runs/Compare?ids={id}")).StatusCode);
        Assert.DoesNotContain("exported", await other.Http.GetStringAsync("/Runs"));

        // Delete from the list: the dialog asks, then the row and the run are gone.
        await s.Page.GotoAsync($"{s.Url}/Runs");
        var row = s.Page.Locator($"tr.run[data-run-id='{id}']");
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(s.Page.Locator("#confirm-message")).ToContainTextAsync("Delete the run “exported”");
        await s.Page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        // The last row gone, the list reloads to say there are none.
        await Assertions.Expect(s.Page.Locator(".runs-empty")).ToContainTextAsync("No runs yet", new() { Timeout = 15_000 });
        Assert.Equal(404, (await s.Page.APIRequest.GetAsync($"{s.Url}/api/v1/runs/{id}")).Status);
        Assert.Equal(404, (await s.Page.GotoAsync($"{s.Url}/Runs/{id}"))!.Status);
    }

    private static List<object> Batch(int from, int count)
    {
        var points = new List<object>();
        for (var step = from; step < from + count; step++)
        {
            points.Add(new { name = "loss", step, value = 1.0 / (step + 1) });
            points.Add(new { name = "accuracy", step, value = step / 1000.0 });
        }

        return points;
    }
}
