using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class DeploymentsApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private const string Password = "open sesame 42";

    private static async Task<JsonElement> CreateAsync(TestUser user, object? body = null)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/deployments",
            body ?? new { module = "development", title = "My notebook", password = Password });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Create_QueuesARunningDeployment_WithTheModuleDefaults_AndNeverShowsThePassword()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/deployments",
            new { module = "development", title = "  My notebook ", password = Password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Password, text);
        var d = JsonDocument.Parse(text).RootElement;
        var id = d.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/deployments/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("My notebook", d.GetProperty("title").GetString());
        Assert.Equal("jupyter", d.GetProperty("service").GetString());
        Assert.Equal(1, d.GetProperty("cpus").GetDouble());
        Assert.Equal(2048, d.GetProperty("memoryMiB").GetInt32());
        Assert.Equal("running", d.GetProperty("desired").GetString());
        Assert.Equal("queued", d.GetProperty("observed").GetString());
        Assert.Equal(1, d.GetProperty("generation").GetInt64());
        Assert.Equal($"/ide/{id}/", d.GetProperty("url").GetString());
        Assert.Equal(user.AccountId, d.GetProperty("accountId").GetGuid());
        Assert.False(d.TryGetProperty("password", out _));
        Assert.False(d.TryGetProperty("passwordProtected", out _));
        Assert.False(d.TryGetProperty("tokenHash", out _));

        // Encrypted at rest, and readable back only through the data-protection purpose Workers use.
        var stored = await factory.WithDbAsync(db => db.Deployments.AsNoTracking().SingleAsync(x => x.Id == id));
        Assert.DoesNotContain(Password, stored.PasswordProtected);
        var specs = factory.Services.GetRequiredService<Platform.Core.Deployments.Backends.WorkloadSpecs>();
        Assert.Equal(Password, specs.Build(stored, "k", "t").Password);

        var listed = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments");
        Assert.Equal(id, listed.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid());
        var events = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/events");
        Assert.StartsWith("Created by ", events.GetProperty("items")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task RunYourOwnImage_NeedsAWellFormedImage_AndAContainerBackend()
    {
        var user = await factory.CreateUserAsync();
        async Task<string[]> ImageErrorsAsync(object body) =>
            (await (await user.Client.PostAsJsonAsync("/api/v1/deployments", body)).AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("image");

        Assert.Equal(["Name the image to run, such as registry.example.org/team/model:1.2."],
            await ImageErrorsAsync(new { module = "custom-image", title = "Mine", service = "api" }));
        Assert.Contains("is not an image reference", (await ImageErrorsAsync(new { module = "custom-image", title = "Mine", service = "api", image = "My Image!!" }))[0]);
        // Well formed, but the platform runs local processes here (Compute:Backend=process).
        Assert.Equal(["Running your own image needs a container backend; this platform runs deployments as local processes (Compute:Backend=process)."],
            await ImageErrorsAsync(new { module = "custom-image", title = "Mine", service = "api", image = "registry.example.org:5000/team/model:1.2" }));
        // Other modules bring their own image.
        Assert.Equal(["'Development environment' runs its own image; only \"Run your own image\" takes one."],
            await ImageErrorsAsync(new { module = "development", title = "Mine", password = Password, image = "registry.example.org/team/model:1.2" }));
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Create_ReportsEveryBadField_BesideItsName()
    {
        var user = await factory.CreateUserAsync();
        var problem = await (await user.Client.PostAsJsonAsync("/api/v1/deployments", new
        {
            module = "development",
            title = new string('t', 101),
            description = new string('d', 4001),
            service = "api",
            cpus = 5.0,
            gpus = 0.5,
            memoryMiB = 99999,
            diskGiB = 0,
            template = "fancy",
            imageTag = "nightly",
            datasets = new[] { "images@3", "no version", "UPPER@1" },
            password = "short",
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        foreach (var field in new[] { "title", "description", "service", "cpus", "gpus", "memoryMiB", "diskGiB", "template", "imageTag", "datasets[1]", "datasets[2]", "password" })
        {
            Assert.NotEmpty(problem.FieldErrors(field));
        }

        Assert.Equal(["No dataset 'images' you can read."], problem.FieldErrors("datasets[0]"));
        Assert.Contains("jupyter, vscode", problem.FieldErrors("service")[0]);

        var unknown = await (await user.Client.PostAsJsonAsync("/api/v1/deployments", new { module = "nope", title = "x", password = Password }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["The catalog has no module named 'nope'."], unknown.FieldErrors("module"));
        var negative = await (await user.Client.PostAsJsonAsync("/api/v1/deployments", new { module = "development", title = "x", password = Password, cpus = 0, gpus = -1 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(negative.FieldErrors("cpus"));
        Assert.NotEmpty(negative.FieldErrors("gpus"));
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Datasets_MustNamePublishedVersionsTheOwnerCanRead()
    {
        var owner = await factory.CreateUserAsync();
        var stranger = await factory.CreateUserAsync();
        var created = await owner.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "pixels" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var datasetId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PutAsync($"/api/v1/datasets/{datasetId}/draft/files/a.txt", new ByteArrayContent([1, 2, 3]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PostAsync($"/api/v1/datasets/{datasetId}/draft/publish", null)).StatusCode);

        var problem = await (await owner.Client.PostAsJsonAsync("/api/v1/deployments", new
        {
            module = "development", title = "x", password = Password, datasets = new[] { "nope@1", "pixels@3", "pixels@1" },
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["No dataset 'nope' you can read."], problem.FieldErrors("datasets[0]"));
        Assert.Equal(["Dataset 'pixels' has no version 3."], problem.FieldErrors("datasets[1]"));
        Assert.Equal(["'pixels' is mounted already: each dataset appears once, at datasets/<name>."], problem.FieldErrors("datasets[2]"));

        // Another user's private dataset is as unknown as a missing one.
        var foreign = await (await stranger.Client.PostAsJsonAsync("/api/v1/deployments",
            new { module = "development", title = "x", password = Password, datasets = new[] { "pixels@1" } })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["No dataset 'pixels' you can read."], foreign.FieldErrors("datasets[0]"));

        var d = await CreateAsync(owner, new { module = "development", title = "x", password = Password, datasets = new[] { "pixels@latest" } });
        Assert.Equal(["pixels@latest"], d.GetProperty("datasets").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task AnotherUsersDeployment_IsNotFound_ForEveryVerb()
    {
        var owner = await factory.CreateUserAsync();
        var other = await factory.CreateUserAsync();
        var id = (await CreateAsync(owner)).GetProperty("id").GetGuid();

        await (await other.Client.GetAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Client.GetAsync($"/api/v1/deployments/{id}/events")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Client.PostAsync($"/api/v1/deployments/{id}/stop", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Client.DeleteAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Client.PostAsJsonAsync("/api/v1/deployments", new { accountId = owner.AccountId, module = "development", title = "x", password = Password }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(0, (await other.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments")).GetProperty("total").GetInt32());

        var mine = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}");
        Assert.Equal("running", mine.GetProperty("desired").GetString());
        Assert.Equal(1, mine.GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task StopStartDelete_ChangeDesire_BumpTheGeneration_AndSayWhoAsked()
    {
        var user = await factory.CreateUserAsync("desirer");
        var id = (await CreateAsync(user)).GetProperty("id").GetGuid();

        var stopped = await (await user.Client.PostAsync($"/api/v1/deployments/{id}/stop", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stopped", stopped.GetProperty("desired").GetString());
        Assert.Equal(2, stopped.GetProperty("generation").GetInt64());
        // Asking again for what is already wanted changes nothing.
        var again = await (await user.Client.PostAsync($"/api/v1/deployments/{id}/stop", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, again.GetProperty("generation").GetInt64());
        var started = await (await user.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("running", started.GetProperty("desired").GetString());
        Assert.Equal(3, started.GetProperty("generation").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/deployments/{id}")).StatusCode);
        var deleting = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}");
        Assert.Equal("deleted", deleting.GetProperty("desired").GetString());
        Assert.Equal(4, deleting.GetProperty("generation").GetInt64());
        await (await user.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).AssertProblemAsync(HttpStatusCode.Conflict);

        var events = (await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/events"))
            .GetProperty("items").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Equal(["Created by desirer: Jupyter of 'development'", "Stop requested by desirer", "Start requested by desirer", "Delete requested by desirer"], events);
    }

    [Fact]
    public async Task Spec_ShowsWhatWouldBeSubmitted_WithoutSecrets_AndCreatesNothing()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/deployments/spec",
            new { module = "echo-api", title = "echo", cpus = 2, memoryMiB = 1024 });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var spec = JsonDocument.Parse(text).RootElement;
        Assert.StartsWith("platform-", spec.GetProperty("name").GetString());
        Assert.Equal("api", spec.GetProperty("service").GetString());
        Assert.Equal("process", spec.GetProperty("backend").GetString());
        Assert.Equal(2, spec.GetProperty("cpus").GetDouble());
        Assert.Equal("python3", spec.GetProperty("command")[0].GetString());
        var environment = spec.GetProperty("environment");
        Assert.Equal("http://platform.test", environment.GetProperty("PLATFORM_API_URL").GetString());
        Assert.DoesNotContain("plat_", environment.GetProperty("PLATFORM_API_KEY").GetString());
        Assert.True(environment.TryGetProperty("PLATFORM_DEPLOYMENT_ID", out _));
        Assert.False(spec.GetProperty("passwordSet").GetBoolean());
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments")).GetProperty("total").GetInt32());

        var bad = await (await user.Client.PostAsJsonAsync("/api/v1/deployments/spec", new { module = "echo-api", title = "echo", memoryMiB = 4096 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(bad.FieldErrors("memoryMiB"));
    }
}
