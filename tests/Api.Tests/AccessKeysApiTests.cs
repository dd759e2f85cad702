using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class AccessKeysApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Create_ShowsTheKeyOnce_AndTheListNeverDoes()
    {
        var user = await factory.CreateUserAsync();
        var expires = DateTimeOffset.UtcNow.AddDays(30);
        var response = await user.Client.PostAsJsonAsync("/api/v1/access-keys", new { name = "laptop", scope = "read", expiresAt = expires });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith("plat_", key);
        Assert.Equal("read", created.GetProperty("accessKey").GetProperty("scope").GetString());

        var listed = await user.Client.GetStringAsync("/api/v1/access-keys");
        Assert.DoesNotContain(key, listed);
        Assert.Contains(key[..key.LastIndexOf('_')], listed);

        var me = await factory.ClientWithKey(key).GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("laptop", me.GetProperty("accessKey").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Create_WithBadFields_Is400ForEachField()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/access-keys",
            new { name = "", scope = "admin", expiresAt = DateTimeOffset.UtcNow.AddDays(-1) });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors("name"));
        Assert.NotEmpty(problem.FieldErrors("scope"));
        Assert.NotEmpty(problem.FieldErrors("expiresAt"));
    }

    [Fact]
    public async Task AnotherUsersKey_CannotBeRevoked_Or_Seen()
    {
        var alice = await factory.CreateUserAsync("alice");
        var bob = await factory.CreateUserAsync("bob");
        var aliceKeys = await alice.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys");
        var aliceKeyId = aliceKeys.EnumerateArray().Single().GetProperty("id").GetGuid();

        await (await bob.Client.DeleteAsync($"/api/v1/access-keys/{aliceKeyId}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain(aliceKeyId.ToString(), await bob.Client.GetStringAsync("/api/v1/access-keys"));
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Revoke_IsIdempotent_AndShowsAsRevoked()
    {
        var user = await factory.CreateUserAsync();
        var spare = await factory.CreateKeyAsync(user.Id);
        var keys = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys");
        var spareId = keys.EnumerateArray().Single(k => spare.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal)).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/access-keys/{spareId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/access-keys/{spareId}")).StatusCode);
        var after = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys");
        Assert.Equal("revoked", after.EnumerateArray().Single(k => k.GetProperty("id").GetGuid() == spareId).GetProperty("status").GetString());
        await (await factory.ClientWithKey(spare).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
