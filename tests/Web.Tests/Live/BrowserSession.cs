using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>Debian's Chromium (driven by Playwright) with a newly registered user signed in; its API requests share the page's session cookie.</summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    public IPage Page { get; private set; } = null!;

    public string Url { get; private set; } = "";

    public Guid UserId { get; private set; }

    public Guid AccountId { get; private set; }

    public static async Task<BrowserSession> StartAsync(LiveFixture live)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (.ci/run does).");
        var s = new BrowserSession { playwright = await Playwright.CreateAsync() };
        s.browser = await s.playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var context = await s.browser.NewContextAsync(new BrowserNewContextOptions { AcceptDownloads = true });
        s.Page = await context.NewPageAsync();
        s.Url = live.Web.Address.ToString().TrimEnd('/');
        var email = $"board-{Guid.NewGuid():N}@example.test";
        await s.Page.GotoAsync($"{s.Url}/Account/Register");
        await s.Page.FillAsync("#Input_Email", email);
        await s.Page.FillAsync("#Input_DisplayName", "Board");
        await s.Page.FillAsync("#Input_Password", "browser test 123");
        await s.Page.FillAsync("#Input_ConfirmPassword", "browser test 123");
        await s.Page.ClickAsync("button[type=submit]");
        await s.Page.WaitForURLAsync($"{s.Url}/");
        await using var db = DatabaseMigrator.CreateContext(live.ConnectionString);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == email);
        (s.UserId, s.AccountId) = (user.Id, user.CurrentAccountId!.Value);
        return s;
    }

    public async Task<IAPIResponse> PostAsync(string path, object body) =>
        await Page.APIRequest.PostAsync(Url + path, new APIRequestContextOptions
        {
            DataObject = body,
            Headers = new Dictionary<string, string> { ["X-Requested-With"] = "XMLHttpRequest", ["Accept"] = "application/json" },
        });

    public async Task<Guid> NewRunAsync(string? name, Guid? jobId = null)
    {
        var response = await PostAsync("/api/v1/runs", jobId is null ? new { name } : new { jobId });
        Assert.True(response.Status is 200 or 201, $"POST /api/v1/runs: {response.Status} {await response.TextAsync()}");
        return (await response.JsonAsync())!.Value.GetProperty("id").GetGuid();
    }

    public async Task GraphAsync(Guid id, string title, params string[] series)
    {
        var response = await PostAsync($"/api/v1/runs/{id}/graphs", new { title, series });
        Assert.True(response.Status == 200, $"POST graphs: {response.Status} {await response.TextAsync()}");
    }

    public async Task PostPointsAsync(Guid id, IReadOnlyList<object> points, long dropped = 0)
    {
        var response = await PostAsync($"/api/v1/runs/{id}/points", new { points, dropped });
        Assert.True(response.Status == 200, $"POST points: {response.Status} {await response.TextAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
