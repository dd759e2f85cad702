using System.Security.Cryptography;
using Microsoft.Playwright;

namespace Platform.AppHost.Tests;

/// <summary>
/// A person in a real browser (Debian's Chromium, driven by Playwright) against the real platform: sign up, create a
/// dataset, choose a folder to upload, watch the progress, and see the files, with their hashes, in the list. A file
/// over one part goes through the resumable upload API, and a part whose connection drops is sent again.
/// </summary>
public sealed class BrowserUploadTests : IDisposable
{
    private readonly string _dataDirectory = StartedPlatform.NewDataDirectory();
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-browser-upload-").FullName;

    [Fact]
    public async Task FolderUpload_ShowsProgress_AndTheFilesWithTheirHashes()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "images"));
        var big = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "images", "big.bin"), big);
        await File.WriteAllTextAsync(Path.Combine(_folder, "labels.csv"), "file,label\nimages/big.bin,cat\n");
        // Over one part (16 MiB): it goes through the resumable upload API in two parts.
        var huge = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "images", "huge.bin"), huge);
        var top = Path.GetFileName(_folder);

        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        var url = platform.Url.ToString().TrimEnd('/');
        await browser.SignUpAsync(url, "browser@example.test", "Browser");

        await page.GotoAsync($"{url}/Datasets");
        await page.FillAsync("input[name='Input.Name']", "browser-data");
        await page.ClickAsync("form button[type=submit]:has-text('Create')");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/Datasets/[0-9a-f-]{36}"));

        // The connection drops during part 2 the first time: the page waits a moment and sends that part again.
        var parts = new List<string>();
        var dropped = 0;
        await page.RouteAsync("**/draft/uploads/*/parts/*", async route =>
        {
            lock (parts)
            {
                parts.Add(route.Request.Url[(route.Request.Url.LastIndexOf('/') + 1)..]);
            }

            if (route.Request.Url.EndsWith("/parts/2", StringComparison.Ordinal) && Interlocked.Increment(ref dropped) == 1)
            {
                await route.AbortAsync("connectionreset");
                return;
            }

            await route.ContinueAsync();
        });

        await page.Locator("input[webkitdirectory]").SetInputFilesAsync(_folder);
        await Assertions.Expect(page.Locator(".progress").First).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => /3 of 3 files/.test(document.body.innerText)", null, new() { Timeout = 90_000 });
        Assert.Equal(["1", "2", "2"], parts);

        // The panel reloads the page once everything is in; the list then shows both files with their hashes.
        var list = page.Locator("table");
        await Assertions.Expect(list).ToContainTextAsync($"{top}/images/big.bin", new() { Timeout = 30_000 });
        await Assertions.Expect(list).ToContainTextAsync($"{top}/labels.csv");
        await Assertions.Expect(list).ToContainTextAsync($"{top}/images/huge.bin");
        await Assertions.Expect(list).ToContainTextAsync(Convert.ToHexStringLower(SHA256.HashData(big))[..12]);
        await Assertions.Expect(list).ToContainTextAsync(Convert.ToHexStringLower(SHA256.HashData(huge))[..12]);
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("3 files");

        await ResumesAfterAReload_SendingOnlyTheMissingPartAsync(page);

        Assert.Equal(0, await platform.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(platform.Leftovers());
    }

    /// <summary>
    /// Part 2 never gets through, so the page is reloaded mid-upload (as after a dropped connection); choosing the same
    /// file again asks the server which parts arrived and sends only part 2.
    /// </summary>
    private async Task ResumesAfterAReload_SendingOnlyTheMissingPartAsync(IPage page)
    {
        var file = Path.Combine(_folder, "..", $"{Path.GetFileName(_folder)}-resume.bin");
        var bytes = RandomNumberGenerator.GetBytes(18 * 1024 * 1024);
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var blocked = true;
            var parts = new List<string>();
            var asked = 0;
            await page.UnrouteAllAsync();
            await page.RouteAsync("**/draft/uploads/*/parts/*", async route =>
            {
                var number = route.Request.Url[(route.Request.Url.LastIndexOf('/') + 1)..];
                lock (parts)
                {
                    parts.Add(number);
                }

                if (blocked && number == "2")
                {
                    await route.AbortAsync("connectionreset");
                    return;
                }

                await route.ContinueAsync();
            });
            page.Request += (_, request) =>
            {
                if (request.Method == "GET" && System.Text.RegularExpressions.Regex.IsMatch(request.Url, "/draft/uploads/[0-9a-f-]{36}$"))
                {
                    Interlocked.Increment(ref asked);
                }
            };

            await page.Locator("#upload-files").SetInputFilesAsync(file);
            await page.WaitForFunctionAsync("() => /retrying/.test(document.body.innerText)", null, new() { Timeout = 60_000 });
            Assert.Equal("1", parts[0]);
            await page.ReloadAsync();
            blocked = false;
            lock (parts)
            {
                parts.Clear();
            }

            await page.Locator("#upload-files").SetInputFilesAsync(file);
            await page.WaitForFunctionAsync("() => /1 of 1 files/.test(document.body.innerText)", null, new() { Timeout = 60_000 });
            Assert.Equal(["2"], parts);
            Assert.Equal(1, asked);
            await Assertions.Expect(page.Locator("table")).ToContainTextAsync(Convert.ToHexStringLower(SHA256.HashData(bytes))[..12], new() { Timeout = 30_000 });
        }
        finally
        {
            File.Delete(file);
        }
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
