using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.AppHost.Tests;

public sealed partial class UserJourneyTests
{
    [Fact]
    public async Task ModelRegisteredWithTheCli_IsDownloadedByAlias_ByAReadOnlySharee_WhoCannotMoveIt()
    {
        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        var (ownerKey, ownerHttp) = await SignUpWithKeyAsync(platform.Url, "trainer@example.test");
        var (readerKey, _) = await SignUpWithKeyAsync(platform.Url, "consumer@example.test");

        var v1 = Directory.CreateTempSubdirectory("platform-journey-model-v1-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(v1, "model.safetensors"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(200_000));
        await File.WriteAllTextAsync(Path.Combine(v1, "notes.txt"), "first run");
        var registered = await AssertSdkAsync(platform.Url, ownerKey, "models", "register", v1, "digits", "--framework", "pytorch",
            "--format", "safetensors", "--metrics", """{"accuracy": 0.91}""", "--alias", "production", "--no-progress");
        Assert.Contains("registered digits@1 (2 files", registered);

        // Version 2: one changed file, one dropped; production stays on version 1.
        var v2 = Directory.CreateTempSubdirectory("platform-journey-model-v2-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(v2, "model.safetensors"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(1_000));
        Assert.Contains("registered digits@2 (1 files", await AssertSdkAsync(platform.Url, ownerKey, "models", "register", v2, "digits",
            "--metrics", """{"accuracy": 0.95}""", "--no-progress"));
        var versions = await AssertSdkAsync(platform.Url, ownerKey, "models", "versions", "digits");
        Assert.Matches(@"^v2\t-\t1 files", versions);
        Assert.Contains("v1\tproduction\t2 files", versions);

        var model = (await ownerHttp.GetFromJsonAsync<JsonElement>("/api/v1/models/resolve?ref=digits@production")).GetProperty("model");
        Assert.Equal(0.95, model.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        var modelId = model.GetProperty("id").GetGuid();
        var refused = await ownerHttp.DeleteAsync($"/api/v1/models/{modelId}/versions/1");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("'production'", await refused.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Created,
            (await ownerHttp.PostAsJsonAsync($"/api/v1/models/{modelId}/shares", new { email = "consumer@example.test", access = "read" })).StatusCode);
        var target = Directory.CreateTempSubdirectory("platform-journey-model-download-").FullName;
        await AssertSdkAsync(platform.Url, readerKey, "models", "download", "digits@production", target, "--no-progress");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(v1, "model.safetensors")), await File.ReadAllBytesAsync(Path.Combine(target, "model.safetensors")));
        Assert.Equal("first run", await File.ReadAllTextAsync(Path.Combine(target, "notes.txt")));
        var (moved, movedOutput) = await RunSdkAsync(platform.Url, readerKey, "models", "alias", "digits", "production", "2");
        Assert.Equal(1, moved);
        Assert.Contains("read access", movedOutput);

        Assert.Equal(0, await platform.StopAsync(StopTimeout));
        Assert.Empty(platform.Leftovers());
        foreach (var folder in new[] { v1, v2, target })
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
