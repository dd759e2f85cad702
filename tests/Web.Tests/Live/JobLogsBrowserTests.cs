using Microsoft.Playwright;

namespace Platform.Web.Tests.Live;

/// <summary>
/// The job log viewer's script in a real browser (Debian's Chromium through Playwright) against the Api and Web with the
/// live hub: the tail, lines arriving over SignalR, and a gap in the chunks' seq filled from the logs API.
/// </summary>
public sealed class JobLogsBrowserTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    [Fact]
    public async Task TheViewer_ShowsTheTail_FollowsLive_AndFillsAGap()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var (page, url) = (s.Page, s.Url);

        var writer = new JobLogWriter(live);
        var id = await writer.SubmitAsync(s.UserId, s.AccountId);
        await writer.ShipAsync(id, "epoch 1: loss 0.9\n");
        await writer.ShipAsync(id, "epoch 2: loss 0.7\n");

        await page.GotoAsync($"{url}/Jobs/{id}/Logs");
        var text = page.Locator("[data-job-logs-text]");
        await Assertions.Expect(text).ToHaveTextAsync("epoch 1: loss 0.9\nepoch 2: loss 0.7\n", new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync("() => document.documentElement.dataset.live === 'connected'", null, new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("[data-job-logs-status]")).ToHaveTextAsync("following live", new() { Timeout = 15_000 });

        // Over SignalR, no reload.
        await writer.ShipAsync(id, "epoch 3: loss 0.5\n");
        await Assertions.Expect(text).ToHaveTextAsync("epoch 1: loss 0.9\nepoch 2: loss 0.7\nepoch 3: loss 0.5\n", new() { Timeout = 15_000 });

        // A chunk whose notification never came, then one that did: the page sees seq skip and fetches the missing one.
        await writer.ShipAsync(id, "epoch 4: loss 0.4\n", notify: false);
        await writer.ShipAsync(id, "epoch 5: loss 0.3\n");
        await Assertions.Expect(text).ToHaveTextAsync(
            "epoch 1: loss 0.9\nepoch 2: loss 0.7\nepoch 3: loss 0.5\nepoch 4: loss 0.4\nepoch 5: loss 0.3\n", new() { Timeout = 15_000 });
        Assert.EndsWith($"/api/v1/jobs/{id}/logs/download?replica=trainer-0", await page.Locator("[data-job-logs-download]").GetAttributeAsync("href"));
    }
}
