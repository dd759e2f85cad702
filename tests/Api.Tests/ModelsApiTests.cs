using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class ModelsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static async Task<JsonElement> RegisterAsync(TestUser user, string name, object? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["description"] = "a classifier",
            ["framework"] = "PyTorch",
            ["format"] = "safetensors",
            ["metrics"] = new Dictionary<string, object> { ["accuracy"] = 0.93, ["loss"] = 0.21, ["dataset"] = "mnist@2" },
            ["inputSchema"] = new { type = "object", properties = new { image = new { type = "array" } } },
        };
        foreach (var (key, value) in JsonSerializer.SerializeToElement(extra ?? new { }).EnumerateObject().Select(p => (p.Name, p.Value)))
        {
            body[key] = value;
        }

        var response = await user.Client.PostAsJsonAsync("/api/v1/models", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task PublishAsync(TestUser user, Guid id, string path, string content)
    {
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PutAsync($"/api/v1/models/{id}/draft/files/{path}", new StringContent(content))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/models/{id}/draft/publish", null)).StatusCode);
    }

    private static Task<HttpResponseMessage> SetAliasAsync(TestUser user, Guid id, string alias, string version) =>
        user.Client.PutAsJsonAsync($"/api/v1/models/{id}/aliases/{alias}", new { version });

    [Fact]
    public async Task Register_KeepsTheMetadata_AndListsItWithTheFrameworkFilter()
    {
        var user = await factory.CreateUserAsync();
        var model = await RegisterAsync(user, "digits");
        Assert.Equal("pytorch", model.GetProperty("framework").GetString());
        Assert.Equal("safetensors", model.GetProperty("format").GetString());
        Assert.Equal(0.93, model.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal("array", model.GetProperty("inputSchema").GetProperty("properties").GetProperty("image").GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, model.GetProperty("outputSchema").ValueKind);
        Assert.Empty(model.GetProperty("aliases").EnumerateObject());
        await RegisterAsync(user, "trees", new { framework = "sklearn" });

        var pytorch = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/models?framework=PyTorch");
        Assert.Equal(["digits"], pytorch.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var all = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/models?search=classifier");
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        // Models and datasets are apart: a model is not a dataset.
        var id = model.GetProperty("id").GetGuid();
        await (await user.Client.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain("digits", await user.Client.GetStringAsync("/api/v1/datasets"));
    }

    [Fact]
    public async Task BadMetadata_IsRefused_WithAnErrorPerField()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/models", new
        {
            name = "Bad Name",
            framework = new string('x', 51),
            inputSchema = new[] { 1, 2 },
            outputSchema = "text",
            metrics = new { accuracy = new { nested = 1 } },
        });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors("name"));
        Assert.NotEmpty(problem.FieldErrors("framework"));
        Assert.Contains("JSON object", problem.FieldErrors("inputSchema")[0]);
        Assert.Contains("JSON object", problem.FieldErrors("outputSchema")[0]);
        Assert.Contains("'accuracy'", problem.FieldErrors("metrics")[0]);

        var huge = new Dictionary<string, string> { ["blob"] = new string('x', 70 * 1024) };
        var tooBig = await user.Client.PostAsJsonAsync("/api/v1/models", new { name = "big", inputSchema = huge });
        Assert.Contains("KiB", (await tooBig.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("inputSchema")[0]);
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/models")).GetProperty("total").GetInt32());

        var model = await RegisterAsync(user, "patched");
        var id = model.GetProperty("id").GetGuid();
        var badPatch = await user.Client.PatchAsJsonAsync($"/api/v1/models/{id}", new { metrics = new[] { 1 } });
        Assert.NotEmpty((await badPatch.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("metrics"));
    }

    [Fact]
    public async Task Patch_ChangesOnlyWhatItNames_AndNullClearsASchema()
    {
        var user = await factory.CreateUserAsync();
        var id = (await RegisterAsync(user, "evolving")).GetProperty("id").GetGuid();

        var patched = await user.Client.PatchAsync($"/api/v1/models/{id}", JsonContent.Create(
            JsonDocument.Parse("""{"metrics": {"accuracy": 0.97}, "inputSchema": null, "format": "onnx", "tags": ["Vision"]}""").RootElement));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var model = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0.97, model.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal(JsonValueKind.Null, model.GetProperty("inputSchema").ValueKind);
        Assert.Equal("onnx", model.GetProperty("format").GetString());
        Assert.Equal("pytorch", model.GetProperty("framework").GetString());
        Assert.Equal("a classifier", model.GetProperty("description").GetString());
        Assert.Equal(["vision"], model.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Aliases_AreSetMovedAndRemoved_AndNameVersionsInDownloads()
    {
        var user = await factory.CreateUserAsync();
        var id = (await RegisterAsync(user, "ranker")).GetProperty("id").GetGuid();
        await PublishAsync(user, id, "weights.bin", "v1 weights");
        await PublishAsync(user, id, "weights.bin", "v2 weights");

        var set = await SetAliasAsync(user, id, "production", "1");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(1, (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("aliases").GetProperty("production").GetInt32());
        Assert.Equal("v1 weights", await user.Client.GetStringAsync($"/api/v1/models/{id}/versions/production/files/weights.bin"));
        Assert.Equal("v2 weights", await user.Client.GetStringAsync($"/api/v1/models/{id}/versions/latest/files/weights.bin"));

        // An alias of an alias is resolved when it is set: staging names version 1, and stays there when production moves.
        Assert.Equal(HttpStatusCode.OK, (await SetAliasAsync(user, id, "staging", "production")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SetAliasAsync(user, id, "production", "2")).StatusCode);
        Assert.Equal("v2 weights", await user.Client.GetStringAsync($"/api/v1/models/{id}/versions/production/files/weights.bin"));
        var versions = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/models/{id}/versions");
        Assert.Equal([("2", "production"), ("1", "staging")], versions.EnumerateArray()
            .Select(v => (v.GetProperty("version").GetString(), string.Join(",", v.GetProperty("aliases").EnumerateArray().Select(a => a.GetString())))));

        var resolved = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/models/resolve?ref=ranker@staging");
        Assert.Equal(id, resolved.GetProperty("model").GetProperty("id").GetGuid());
        Assert.Equal("1", resolved.GetProperty("version").GetProperty("version").GetString());
        Assert.Equal("2", (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/models/resolve?ref=ranker"))
            .GetProperty("version").GetProperty("version").GetString());
        await (await user.Client.GetAsync("/api/v1/models/resolve?ref=ranker@canary")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await user.Client.GetAsync("/api/v1/models/resolve?ref=nothing@1")).AssertProblemAsync(HttpStatusCode.NotFound);

        foreach (var bad in new[] { "latest", "draft", "Prod", "9lives" })
        {
            Assert.NotEmpty((await (await SetAliasAsync(user, id, bad, "1")).AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("alias"));
        }

        Assert.NotEmpty((await (await SetAliasAsync(user, id, "canary", "draft")).AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("version"));
        var latest = await SetAliasAsync(user, id, "canary", "latest");
        Assert.Equal(2, (await latest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("aliases").GetProperty("canary").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}/aliases/canary")).StatusCode);
        await (await SetAliasAsync(user, id, "canary", "7")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}/aliases/staging")).StatusCode);
        await (await user.Client.DeleteAsync($"/api/v1/models/{id}/aliases/staging")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await user.Client.GetAsync($"/api/v1/models/{id}/versions/staging/files/weights.bin")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingAnAliasedVersion_IsRefused_UntilTheAliasMoves()
    {
        var user = await factory.CreateUserAsync();
        var id = (await RegisterAsync(user, "guarded")).GetProperty("id").GetGuid();
        await PublishAsync(user, id, "m.bin", "one");
        await PublishAsync(user, id, "m.bin", "two");
        await PublishAsync(user, id, "m.bin", "three");
        await SetAliasAsync(user, id, "production", "3");

        var refused = await user.Client.DeleteAsync($"/api/v1/models/{id}/versions/3");
        Assert.Equal("Version 3 is 'production'; move or remove the alias first.", (await refused.AssertProblemAsync(HttpStatusCode.Conflict)).Detail());
        var byAlias = await user.Client.DeleteAsync($"/api/v1/models/{id}/versions/production");
        await byAlias.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("three", await user.Client.GetStringAsync($"/api/v1/models/{id}/versions/3/files/m.bin"));

        Assert.Equal(HttpStatusCode.OK, (await SetAliasAsync(user, id, "production", "2")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}/versions/3")).StatusCode);
        await (await user.Client.DeleteAsync($"/api/v1/models/{id}/versions/2")).AssertProblemAsync(HttpStatusCode.Conflict);

        // Deleting the whole model takes its aliases with it.
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}")).StatusCode);
        await (await user.Client.GetAsync($"/api/v1/models/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ReadShare_ReadsAndDownloads_ButCannotSetAliasesOrMetadata()
    {
        var owner = await factory.CreateUserAsync("model-owner");
        var reader = await factory.CreateUserAsync("model-reader");
        var id = (await RegisterAsync(owner, "shared-model")).GetProperty("id").GetGuid();
        await PublishAsync(owner, id, "model.onnx", "onnx bytes");
        await SetAliasAsync(owner, id, "production", "1");
        await (await reader.Client.GetAsync($"/api/v1/models/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await reader.Client.GetAsync("/api/v1/models/resolve?ref=shared-model@production")).AssertProblemAsync(HttpStatusCode.NotFound);

        var shared = await owner.Client.PostAsJsonAsync($"/api/v1/models/{id}/shares", new { email = reader.Email, access = "read" });
        Assert.Equal(HttpStatusCode.Created, shared.StatusCode);

        Assert.Contains("shared-model", await reader.Client.GetStringAsync("/api/v1/models"));
        Assert.Equal("onnx bytes", await reader.Client.GetStringAsync($"/api/v1/models/{id}/versions/production/files/model.onnx"));
        var resolved = await reader.Client.GetFromJsonAsync<JsonElement>("/api/v1/models/resolve?ref=shared-model@production");
        Assert.Equal(id, resolved.GetProperty("model").GetProperty("id").GetGuid());
        Assert.Contains("read access", (await (await SetAliasAsync(reader, id, "mine", "1")).AssertProblemAsync(HttpStatusCode.Forbidden)).Detail());
        await (await reader.Client.DeleteAsync($"/api/v1/models/{id}/aliases/production")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.PatchAsJsonAsync($"/api/v1/models/{id}", new { description = "mine now" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.DeleteAsync($"/api/v1/models/{id}/versions/1")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnotherAccountsModel_IsNotFound_OnEveryRoute()
    {
        var owner = await factory.CreateUserAsync("private-owner");
        var outsider = await factory.CreateUserAsync("model-outsider");
        var id = (await RegisterAsync(owner, "private-model")).GetProperty("id").GetGuid();
        await PublishAsync(owner, id, "w.bin", "secret");
        await SetAliasAsync(owner, id, "production", "1");

        await (await outsider.Client.GetAsync($"/api/v1/models/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.GetAsync($"/api/v1/models/{id}/versions")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.GetAsync($"/api/v1/models/{id}/versions/production/files/w.bin")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await SetAliasAsync(outsider, id, "production", "1")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.PatchAsJsonAsync($"/api/v1/models/{id}", new { description = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.GetAsync("/api/v1/models/resolve?ref=private-model")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain("private-model", await outsider.Client.GetStringAsync("/api/v1/models"));
    }

    [Fact]
    public async Task PublicModels_AreInTheModelCatalog_AndResolvable()
    {
        var owner = await factory.CreateUserAsync("model-publisher");
        var reader = await factory.CreateUserAsync("model-browser");
        var id = (await RegisterAsync(owner, "open-model")).GetProperty("id").GetGuid();
        await PublishAsync(owner, id, "w.bin", "open");
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PutAsync($"/api/v1/models/{id}/public", null)).StatusCode);

        var catalog = await reader.Client.GetFromJsonAsync<JsonElement>("/api/v1/catalog/models?framework=pytorch");
        var listed = Assert.Single(catalog.GetProperty("items").EnumerateArray(), m => m.GetProperty("name").GetString() == "open-model");
        Assert.Equal("safetensors", listed.GetProperty("format").GetString());
        Assert.DoesNotContain("open-model", await reader.Client.GetStringAsync("/api/v1/catalog/datasets"));
        Assert.Equal("1", (await reader.Client.GetFromJsonAsync<JsonElement>("/api/v1/models/resolve?ref=open-model@latest"))
            .GetProperty("version").GetProperty("version").GetString());
    }

    [Fact]
    public async Task DeletingADraftFile_LeavesPublishedVersionsAlone_AndFreesUnsharedBytes()
    {
        var user = await factory.CreateUserAsync();
        var id = (await RegisterAsync(user, "slimmer")).GetProperty("id").GetGuid();
        await PublishAsync(user, id, "old.bin", "old weights");
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PutAsync($"/api/v1/models/{id}/draft/files/only-draft.bin", new StringContent("12345"))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}/draft/files/old.bin")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/models/{id}/draft/files/only-draft.bin")).StatusCode);
        await (await user.Client.DeleteAsync($"/api/v1/models/{id}/draft/files/old.bin")).AssertProblemAsync(HttpStatusCode.NotFound);

        var draft = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/models/{id}/versions/draft/files");
        Assert.Empty(draft.GetProperty("items").EnumerateArray());
        Assert.Equal("old weights", await user.Client.GetStringAsync($"/api/v1/models/{id}/versions/1/files/old.bin"));
        var usage = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage");
        Assert.Equal("old weights".Length, usage.GetProperty("usedBytes").GetInt64());
    }
}
