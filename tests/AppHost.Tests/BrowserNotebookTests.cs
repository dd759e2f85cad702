using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Platform.AppHost.Tests;

/// <summary>
/// The notebook user's path in a real browser (Debian's Chromium, driven by Playwright): sign up, Catalog →
/// Development environment → Configure, a too-short password refused beside its field, deploy, watch it on the
/// Deployments list until it runs, Open, log into Jupyter with the password and see the workspace's file tree.
/// </summary>
[Collection(JupyterPlatform.Collection)]
public sealed class BrowserNotebookTests(JupyterPlatform platform)
{

    [Fact]
    public async Task DeployFromTheCatalog_WatchItRun_OpenJupyter_AndSeeTheFileTree()
    {
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        var patient = new LocatorAssertionsToContainTextOptions { Timeout = 30_000 };
        var url = platform.Url.ToString().TrimEnd('/');

        await browser.SignUpAsync(url, "browser-notebook@example.test", "Notebook");

        await page.GotoAsync($"{url}/Catalog");
        await page.GetByRole(AriaRole.Link, new() { Name = "Development environment" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Configure" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/Deployments/New"));

        const string title = "browser notebook";
        await page.FillAsync("#Input_Title", title);
        await page.FillAsync("#Input_Password", "short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Deploy", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-valmsg-for='Input.Password']")).ToContainTextAsync("9 to 200 characters", patient);

        const string password = "browser jupyter 9";
        await page.FillAsync("#Input_Password", password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Deploy", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/Deployments/[0-9a-f-]{36}"));
        var id = Regex.Match(page.Url, "[0-9a-f-]{36}").Value;

        await page.GotoAsync($"{url}/Deployments");
        var row = page.Locator($"[data-id='{id}']");
        await Assertions.Expect(row).ToContainTextAsync(title, patient);
        // However the page learns of it (a refresh or a live update), the row comes to say "running" and offers Open.
        await Assertions.Expect(row).ToContainTextAsync("running", new() { Timeout = 90_000 });
        var open = row.GetByRole(AriaRole.Link, new() { Name = "Open" });
        await Assertions.Expect(open).ToBeVisibleAsync(new() { Timeout = 30_000 });

        var jupyter = await page.RunAndWaitForPopupAsync(() => open.ClickAsync());
        await jupyter.WaitForURLAsync(new Regex($"/ide/{id}/login"));
        await jupyter.FillAsync("input[type=password]", password);
        await jupyter.Locator("#login_submit, button[type=submit], input[type=submit]").First.ClickAsync();
        await jupyter.WaitForURLAsync(new Regex($"/ide/{id}/tree"));
        await Assertions.Expect(jupyter.Locator("#notebook_list")).ToContainTextAsync("README.md", patient);

        // Deleted with the browser's session, so no notebook outlives the shared platform.
        Assert.Equal(204, (await page.APIRequest.DeleteAsync($"{url}/api/v1/deployments/{id}")).Status);
        await platform.WaitUntilGoneAsync(Guid.Parse(id), TimeSpan.FromSeconds(60));
    }
}
