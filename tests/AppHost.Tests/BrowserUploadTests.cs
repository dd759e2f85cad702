using System.Security.Cryptography;
using Microsoft.Playwright;

namespace Platform.AppHost.Tests;

/// <summary>
/// A person in a real browser (Debian's Chromium, driven by Playwright) against the real platform: sign up, create a
/// dataset, choose a folder to upload, watch the progress, and see the files, with their hashes, in the list.
/// </summary>
public sealed class BrowserUploadTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _dataDirectory = StartedPlatform.NewDataDirectory();
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-browser-upload-").FullName;

    [Fact]
    public async Task FolderUpload_ShowsProgress_AndTheFilesWithTheirHashes()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (.ci/run does).");
        Directory.CreateDirectory(Path.Combine(_folder, "images"));
        var big = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "images", "big.bin"), big);
        await File.WriteAllTextAsync(Path.Combine(_folder, "labels.csv"), "file,label\nimages/big.bin,cat\n");
        var top = Path.GetFileName(_folder);

        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        var url = platform.Url.ToString().TrimEnd('/');

        await page.GotoAsync($"{url}/Account/Register");
        await page.FillAsync("#Input_Email", "browser@example.test");
        await page.FillAsync("#Input_DisplayName", "Browser");
        await page.FillAsync("#Input_Password", "browser test 123");
        await page.FillAsync("#Input_ConfirmPassword", "browser test 123");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{url}/");

        await page.GotoAsync($"{url}/Datasets");
        await page.FillAsync("input[name='Input.Name']", "browser-data");
        await page.ClickAsync("form button[type=submit]:has-text('Create')");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/Datasets/[0-9a-f-]{36}"));

        await page.Locator("input[webkitdirectory]").SetInputFilesAsync(_folder);
        await Assertions.Expect(page.Locator(".progress").First).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => /2 of 2 files/.test(document.body.innerText)", null, new() { Timeout = 60_000 });

        // The panel reloads the page once everything is in; the list then shows both files with their hashes.
        var list = page.Locator("table");
        await Assertions.Expect(list).ToContainTextAsync($"{top}/images/big.bin", new() { Timeout = 30_000 });
        await Assertions.Expect(list).ToContainTextAsync($"{top}/labels.csv");
        await Assertions.Expect(list).ToContainTextAsync(Convert.ToHexStringLower(SHA256.HashData(big))[..12]);
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("2 files");

        Assert.Equal(0, await platform.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(platform.Leftovers());
    }

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A folder still owned by the postgres user is swept by later runs; not worth a failure here.
        }
    }
}
