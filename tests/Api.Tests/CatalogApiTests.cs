using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>The catalog as shipped: the built-in modules, found from the repository, and no webhook secret.</summary>
public sealed class CatalogApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Modules_AreListedToVisitors_WithSearchAndTagFilter()
    {
        var visitor = factory.CreateClient();

        var all = await visitor.GetFromJsonAsync<JsonElement>("/api/v1/catalog/modules");
        Assert.Equal(["custom-image", "demo-classifier", "development"], all.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var development = all.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "development");
        Assert.Equal("Development environment", development.GetProperty("title").GetString());
        Assert.Equal(["jupyter", "vscode"], development.GetProperty("services").EnumerateArray().Select(s => s.GetString()));

        var searched = await visitor.GetFromJsonAsync<JsonElement>("/api/v1/catalog/modules?search=FRUIT%20classifier");
        Assert.Equal(["demo-classifier"], searched.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var tagged = await visitor.GetFromJsonAsync<JsonElement>("/api/v1/catalog/modules?tag=development");
        Assert.Equal(["development"], tagged.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Empty(await visitor.GetFromJsonAsync<JsonElement[]>("/api/v1/catalog/modules?tag=gpu&search=demo") ?? []);
    }

    [Fact]
    public async Task Module_HasItsReadmeResourcesAndCommands_AndAnUnknownOneIs404()
    {
        var visitor = factory.CreateClient();

        var module = await visitor.GetFromJsonAsync<JsonElement>("/api/v1/catalog/modules/demo-classifier");
        Assert.StartsWith("# Demo classifier", module.GetProperty("readme").GetString());
        Assert.Equal(0.5, module.GetProperty("resources").GetProperty("default").GetProperty("cpus").GetDouble());
        Assert.Equal(4096, module.GetProperty("resources").GetProperty("max").GetProperty("memoryMiB").GetInt32());
        Assert.Equal(["python3", "-m", "demo_classifier"], module.GetProperty("commands").GetProperty("api").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("localhost/platform-demo-classifier:latest", module.GetProperty("images").GetProperty("cpu").GetString());

        var missing = await (await visitor.GetAsync("/api/v1/catalog/modules/no-such-module")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no-such-module", missing.Detail());
    }

    [Fact]
    public async Task Webhook_WithoutASecretConfigured_IsOff()
    {
        var response = await factory.CreateClient().PostAsync("/api/v1/catalog/webhook", new StringContent("{}"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("Platform:Catalog:WebhookSecret", problem.Detail());
    }
}

/// <summary>A catalog of the test's own (a temp folder) with a webhook secret: reloads, admin status and signatures.</summary>
public sealed class CatalogReloadApiTests(CatalogReloadApiTests.Factory factory) : IClassFixture<CatalogReloadApiTests.Factory>
{
    public const string Secret = "webhook secret for tests";

    public sealed class Factory : ApiFactory
    {
        public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"platform-api-catalog-{Guid.NewGuid():N}");

        public void WriteModule(string name, string? manifest = null)
        {
            Directory.CreateDirectory(Path.Combine(Folder, name));
            File.WriteAllText(Path.Combine(Folder, name, "module.json"), manifest ?? $$"""
                {"name": "{{name}}", "title": "Module {{name}}", "summary": "Test module.", "tags": ["cpu"], "services": ["jupyter"],
                 "resources": {"default": {"cpus": 1, "gpus": 0, "memoryMiB": 512, "diskGiB": 1},
                               "max": {"cpus": 2, "gpus": 0, "memoryMiB": 1024, "diskGiB": 2} } }
                """);
            File.WriteAllText(Path.Combine(Folder, name, "README.md"), $"# {name}");
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WriteModule("first");
            builder.UseSetting("Platform:Catalog:Folder", Folder);
            builder.UseSetting("Platform:Catalog:WebhookSecret", Secret);
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }
        }
    }

    private static string Sign(string body, string secret = Secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    private async Task<string[]> ModuleNamesAsync() =>
        (await factory.CreateClient().GetFromJsonAsync<JsonElement>("/api/v1/catalog/modules")).EnumerateArray()
            .Select(m => m.GetProperty("name").GetString()!).ToArray();

    [Fact]
    public async Task Reload_IsForPlatformAdmins_AndReportsBrokenModules()
    {
        var admin = await factory.NamedUserAsync("admin");
        var user = await factory.NamedUserAsync("plain");
        Assert.Contains("first", await ModuleNamesAsync());
        factory.WriteModule("added");
        factory.WriteModule("broken", """{"name": "broken", "title": "Broken", "services": ["api"]}""");

        await (await factory.CreateClient().PostAsync("/api/v1/admin/catalog/reload", null)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await user.Client.PostAsync("/api/v1/admin/catalog/reload", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await user.Client.GetAsync("/api/v1/admin/catalog")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.DoesNotContain("added", await ModuleNamesAsync());

        var reload = await admin.Client.PostAsync("/api/v1/admin/catalog/reload", null);
        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        var status = await reload.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(factory.Folder, status.GetProperty("source").GetString());
        Assert.True(status.GetProperty("modules").GetInt32() >= 2);
        var errors = status.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("module").GetString(), e.GetProperty("message").GetString())).ToList();
        Assert.Contains(("broken", "summary is required."), errors);
        Assert.Contains(errors, e => e.Item1 == "broken" && e.Item2!.StartsWith("the api service needs commands.api", StringComparison.Ordinal));
        Assert.Contains("added", await ModuleNamesAsync());
        Assert.DoesNotContain("broken", await ModuleNamesAsync());

        var current = await admin.Client.GetFromJsonAsync<JsonElement>("/api/v1/admin/catalog");
        Assert.Equal(status.GetProperty("loadedAt").GetDateTimeOffset(), current.GetProperty("loadedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, current.GetProperty("reloadError").ValueKind);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sha256=")]
    [InlineData("sha1=0123456789012345678901234567890123456789")]
    [InlineData("sha256=zz23456789012345678901234567890123456789012345678901234567890123")]
    [InlineData("wrong-secret")]
    [InlineData("other-body")]
    public async Task Webhook_WithoutAValidSignature_Is401_AndReloadsNothing(string? signature)
    {
        const string body = """{"ref": "refs/heads/main"}""";
        var name = $"hook-{Guid.NewGuid():N}"[..16];
        factory.WriteModule(name);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/catalog/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var header = signature switch
        {
            "wrong-secret" => Sign(body, "another secret"),
            "other-body" => Sign(body + " "),
            _ => signature,
        };
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", header);
        }

        var response = await factory.CreateClient().SendAsync(request);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Hub-Signature-256", problem.Detail());
        Assert.DoesNotContain(name, await ModuleNamesAsync());
    }

    [Fact]
    public async Task Webhook_WithTheRightSignature_Reloads()
    {
        const string body = """{"ref": "refs/heads/main", "after": "abc"}""";
        var name = $"hook-{Guid.NewGuid():N}"[..16];
        factory.WriteModule(name);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/catalog/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", Sign(body));

        var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(name, await ModuleNamesAsync());
    }
}
