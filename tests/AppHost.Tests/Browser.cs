using Microsoft.Playwright;

namespace Platform.AppHost.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright, one page with generous waits (the whole platform shares the machine with
/// every suite): the browser tests' common start, and signing up or in on the platform's own pages.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    public IPage Page { get; private set; } = null!;

    public static async Task<Browser> LaunchAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (.ci/run does).");
        var b = new Browser { playwright = await Playwright.CreateAsync() };
        b.browser = await b.playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var context = await b.browser.NewContextAsync();
        // A wait that passes is as fast as before; one that would not fails later.
        context.SetDefaultTimeout(90_000);
        b.Page = await context.NewPageAsync();
        return b;
    }

    /// <summary>Registers on /Account/Register and waits for the home page (the first one waits for the whole machine).</summary>
    public async Task SignUpAsync(string url, string email, string displayName, string password = "browser test 123")
    {
        await Page.GotoAsync($"{url}/Account/Register");
        await Page.FillAsync("#Input_Email", email);
        await Page.FillAsync("#Input_DisplayName", displayName);
        await Page.FillAsync("#Input_Password", password);
        await Page.FillAsync("#Input_ConfirmPassword", password);
        await Page.ClickAsync("button[type=submit]");
        await Page.WaitForURLAsync($"{url}/");
    }

    public async Task SignInAsync(string url, string email, string password)
    {
        await Page.GotoAsync($"{url}/Account/Login");
        await Page.FillAsync("#Input_Email", email);
        await Page.FillAsync("#Input_Password", password);
        await Page.ClickAsync("button[type=submit]");
        await Page.WaitForURLAsync($"{url}/");
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
