using System.Net;

namespace Platform.Web.Tests.Pages;

/// <summary>The catalog pages over the built-in modules (found from the repository, as `dotnet run` finds them).</summary>
public sealed class CatalogPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Visitors_SeeBothBuiltInModules_WithSignInToDeploy()
    {
        var page = await app.NewBrowser().GetAsync("/Catalog");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("data-module=\"development\"", page.Html);
        Assert.Contains("data-module=\"demo-classifier\"", page.Html);
        Assert.Contains("Development environment", page.Text);
        Assert.Contains("Services: api, jupyter", page.Text);
        Assert.Contains("href=\"/Catalog?tag=trainable\"", page.Html);
        Assert.Contains("Sign in to deploy", page.Text);
        Assert.DoesNotContain("/Deployments/New", page.Html);
        Assert.DoesNotContain("Coming to this platform", page.Text);
    }

    [Fact]
    public async Task SignedInUsers_GetAConfigureButtonPerModule()
    {
        var user = await app.NewUserAsync();

        var page = await user.GetAsync("/Catalog");

        Assert.Contains("href=\"/Deployments/New?module=development\"", page.Html);
        Assert.Contains("href=\"/Deployments/New?module=demo-classifier\"", page.Html);
        Assert.DoesNotContain("Sign in to deploy", page.Text);
    }

    [Fact]
    public async Task SearchAndTagFilter_WorkFromTheQueryString()
    {
        var visitor = app.NewBrowser();

        var searched = await visitor.GetAsync("/Catalog?q=fruit");
        Assert.Contains("data-module=\"demo-classifier\"", searched.Html);
        Assert.DoesNotContain("data-module=\"development\"", searched.Html);
        Assert.Equal("fruit", searched.InputValue("catalog-search"));

        var tagged = await visitor.GetAsync("/Catalog?tag=development");
        Assert.Contains("data-module=\"development\"", tagged.Html);
        Assert.DoesNotContain("data-module=\"demo-classifier\"", tagged.Html);
        Assert.Contains("<option value=\"development\" selected=\"selected\">", tagged.Html);

        var none = await visitor.GetAsync("/Catalog?q=quantum&tag=cpu");
        Assert.Contains("No module matches your search.", none.Text);
    }

    [Fact]
    public async Task Details_RenderTheReadme_ResourcesServicesAndImages()
    {
        var page = await app.NewBrowser().GetAsync("/Catalog/development");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("<h1>Development environment</h1>", page.Html);
        Assert.Contains("<strong>JupyterLab</strong>", page.Html);
        Assert.Contains("<th scope=\"row\">Memory</th><td>2048 MiB</td><td>32768 MiB</td>", page.Html);
        Assert.Contains("<th scope=\"row\">GPUs</th><td>0</td><td>2</td>", page.Html);
        Assert.Contains("localhost/platform-jupyter:latest", page.Text);
        Assert.Contains("vscode: VS Code in the browser", page.Text);
        Assert.Contains("Sign in to deploy", page.Text);

        Assert.Equal(HttpStatusCode.NotFound, (await app.NewBrowser().GetAsync("/Catalog/no-such-module")).Status);
    }
}

/// <summary>A catalog folder of the test's own, given through configuration; the class's first user is the admin.</summary>
public sealed class CatalogFolderPagesTests(CatalogFolderPagesTests.Fixture app) : IClassFixture<CatalogFolderPagesTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"platform-web-catalog-{Guid.NewGuid():N}");

        public WebAppFixture Web { get; }

        public Browser Admin { get; private set; } = null!;

        public Fixture() => Web = new WebAppFixture { Settings = new Dictionary<string, string> { ["Platform:Catalog:Folder"] = Folder } };

        public void WriteModule(string name, string readme, string? manifest = null)
        {
            Directory.CreateDirectory(Path.Combine(Folder, name));
            File.WriteAllText(Path.Combine(Folder, name, "module.json"), manifest ?? $$"""
                {"name": "{{name}}", "title": "Module {{name}}", "summary": "Test module.", "tags": ["cpu"], "services": ["jupyter"],
                 "resources": {"default": {"cpus": 1, "gpus": 0, "memoryMiB": 512, "diskGiB": 1},
                               "max": {"cpus": 2, "gpus": 0, "memoryMiB": 1024, "diskGiB": 2} } }
                """);
            File.WriteAllText(Path.Combine(Folder, name, "README.md"), readme);
        }

        public async Task InitializeAsync()
        {
            WriteModule("evil", """
                # Evil module

                <script>alert('readme')</script>
                <img src="x" onerror="alert(1)">

                [click me](javascript:alert(1)) and [also](JaVaScRiPt&#58;alert(2)) and ![pixel](data:image/svg+xml;base64,PHN2Zz4=)

                [docs](https://example.org/docs) and [relative](other/page)
                """);
            await Web.InitializeAsync();
            Admin = await Web.NewUserAsync(WebAppFixture.NewEmail("admin"), "The Admin");
            // The catalog loads on first use: load it now, so modules the tests write later need a reload.
            var loaded = await Admin.GetAsync("/Admin");
            Assert.True(loaded.Text.Contains("Modules 1", StringComparison.Ordinal), loaded.Text);
        }

        public async Task DisposeAsync()
        {
            await Web.DisposeAsync();
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Readme_WithRawHtmlAndScriptLinks_IsRenderedHarmless()
    {
        var page = await app.Web.NewBrowser().GetAsync("/Catalog/evil");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        var start = page.Html.IndexOf("<article class=\"card card-body readme\">", StringComparison.Ordinal);
        var readme = page.Html[start..page.Html.IndexOf("</article>", start, StringComparison.Ordinal)];
        Assert.Contains("<h1>Evil module</h1>", readme);
        Assert.DoesNotContain("<script", readme);
        Assert.Contains("&lt;script&gt;alert", readme);
        Assert.DoesNotContain("<img src=\"x\"", page.Html);
        Assert.DoesNotContain("javascript:", page.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=\"data:", page.Html);
        Assert.Contains("href=\"https://example.org/docs\"", page.Html);
        Assert.Contains("href=\"other/page\"", page.Html);
    }

    [Fact]
    public async Task AdminReload_ShowsTheNewModulesAndTheErrors()
    {
        app.WriteModule("later", "# Later");
        app.WriteModule("broken", "# Broken", """{"name": "broken", "title": "Broken", "services": ["api"]}""");
        Assert.DoesNotContain("data-module=\"later\"", (await app.Web.NewBrowser().GetAsync("/Catalog")).Html);
        var before = await app.Admin.GetAsync("/Admin");
        Assert.Contains("Module catalog", before.Text);
        Assert.Contains(app.Folder, before.Text);
        Assert.DoesNotContain("summary is required.", before.Text);

        var user = await app.Web.NewUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsync("/Admin?handler=ReloadCatalog", [], formPage: "/Keys")).Status);

        var reload = await app.Admin.PostAsync("/Admin?handler=ReloadCatalog");
        Assert.Equal(HttpStatusCode.Redirect, reload.Status);
        var after = await app.Admin.GetAsync("/Admin");
        Assert.Contains("Catalog reloaded: 2 modules, 3 errors (listed under Module catalog).", after.Text);
        Assert.Contains("broken: summary is required.", after.Text);
        Assert.Contains("broken: resources needs both default and max", after.Text);
        Assert.Contains("data-module=\"later\"", (await app.Web.NewBrowser().GetAsync("/Catalog")).Html);
    }
}
