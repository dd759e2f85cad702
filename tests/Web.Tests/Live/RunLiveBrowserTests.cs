using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// <c>platformLive.subscribeRun</c> (live.js) in Debian's Chromium against Api and Web: the catch-up from the steps the
/// page already had, live points, and after the connection closes and comes back, a resubscription from the last steps
/// seen, with every step taken exactly once and in order.
/// </summary>
public sealed class RunLiveBrowserTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    [Fact]
    public async Task SubscribeRun_CatchesUp_FollowsLive_AndResubscribesFromTheLastStepsAfterAReconnect()
    {
        await using var session = await BrowserSession.StartAsync(live);
        var page = session.Page;
        await page.WaitForFunctionAsync("() => document.documentElement.dataset.live === 'connected'", null, new() { Timeout = 15_000 });
        var (userId, accountId) = (session.UserId, session.AccountId);

        var writer = new MetricWriter(live.ConnectionString);
        var run = await writer.CreateRunAsync(userId, accountId);
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 0, 100);

        // The page "had" steps 0..49 from REST: the catch-up brings 50..99.
        await page.EvaluateAsync(
            """
            (runId) => {
              window.__board = { steps: [], infos: [], updates: [] };
              window.platformLive.subscribeRun(runId, { loss: 49 }, (series, info) => {
                window.__board.infos.push(info);
                (series.loss || []).forEach(row => window.__board.steps.push(row[0]));
              }, update => window.__board.updates.push(update));
            }
            """, run.ToString().ToUpperInvariant());
        await page.WaitForFunctionAsync("() => window.__board.steps.length === 50", null, new() { Timeout = 15_000 });

        await writer.IngestAsync(live.Api.Services, run, ["loss"], 100, 100);
        await page.WaitForFunctionAsync("() => window.__board.steps.length === 150", null, new() { Timeout = 15_000 });

        // The connection closes; meanwhile 100 more; it comes back by itself and resubscribes from step 199.
        await page.EvaluateAsync("() => window.platformLive.connection.stop()");
        await page.WaitForFunctionAsync("() => document.documentElement.dataset.live !== 'connected'", null, new() { Timeout = 15_000 });
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 200, 100);
        await page.WaitForFunctionAsync("() => window.__board.steps.length >= 250", null, new() { Timeout = 30_000 });
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 300, 10);
        await page.WaitForFunctionAsync("() => window.__board.steps.length >= 260", null, new() { Timeout = 15_000 });

        var steps = JsonSerializer.Deserialize<long[]>(await page.EvaluateAsync<string>("() => JSON.stringify(window.__board.steps)"))!;
        Assert.Equal(Enumerable.Range(50, 260).Select(i => (long)i), steps);
        // Two catch-ups carried points: the first subscription's and the one after the reconnect, both complete.
        var catchUps = JsonSerializer.Deserialize<JsonElement[]>(await page.EvaluateAsync<string>("() => JSON.stringify(window.__board.infos.filter(i => i.catchUp))"))!;
        Assert.Equal(2, catchUps.Length);
        Assert.All(catchUps, c => Assert.True(c.GetProperty("complete").GetBoolean()));
    }
}
