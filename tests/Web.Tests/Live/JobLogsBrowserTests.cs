using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// The job log viewer's script in a real browser (Debian's Chromium through Playwright) against the Api and Web with the
/// live hub: the tail, lines arriving over SignalR, and a gap in the chunks' seq filled from the logs API.
/// </summary>
public sealed class JobLogsBrowserTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task TheViewer_ShowsTheTail_FollowsLive_AndFillsAGap()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (.ci/run does).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        var url = live.Web.Address.ToString().TrimEnd('/');
        var email = $"viewer-{Guid.NewGuid():N}@example.test";
        await page.GotoAsync($"{url}/Account/Register");
        await page.FillAsync("#Input_Email", email);
        await page.FillAsync("#Input_DisplayName", "Viewer");
        await page.FillAsync("#Input_Password", "browser test 123");
        await page.FillAsync("#Input_ConfirmPassword", "browser test 123");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{url}/");

        Guid userId, accountId;
        await using (var db = DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == email);
            (userId, accountId) = (user.Id, user.CurrentAccountId!.Value);
        }

        var writer = new JobLogWriter(live);
        var id = await writer.SubmitAsync(userId, accountId);
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
