using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Authentication;
using Platform.Api.Live;
using Platform.Core.AccessKeys;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class AuthenticationTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/accounts")]
    [InlineData("/api/v1/access-keys")]
    [InlineData("/api/v1/admin/users")]
    public async Task Get_WithoutCredentials_Is401ProblemDetails(string path)
    {
        var response = await factory.CreateClient().GetAsync(path);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", problem.Detail());
    }

    [Theory]
    [InlineData("not-a-key", "malformed")]
    [InlineData("plat_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "not valid")]
    public async Task Get_WithABadKey_Is401SayingWhy(string key, string reason)
    {
        var response = await factory.ClientWithKey(key).GetAsync("/api/v1/me");
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains(reason, problem.Detail());
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Me_WithAKey_ReturnsTheUserTheirAccountsAndTheKey()
    {
        var user = await factory.CreateUserAsync("alice");
        var me = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal(user.Email, me.GetProperty("user").GetProperty("email").GetString());
        var account = Assert.Single(me.GetProperty("accounts").EnumerateArray());
        Assert.Equal(user.AccountId, account.GetProperty("id").GetGuid());
        Assert.Equal("master", account.GetProperty("role").GetString());
        Assert.Equal(user.AccountId, me.GetProperty("currentAccountId").GetGuid());
        Assert.Equal("full", me.GetProperty("accessKey").GetProperty("scope").GetString());
    }

    [Fact]
    public async Task RevokedKey_IsRefusedWithAClearReason()
    {
        var user = await factory.CreateUserAsync();
        var keys = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys");
        var keyId = keys.EnumerateArray().Single().GetProperty("id").GetGuid();

        var revoke = await user.Client.DeleteAsync($"/api/v1/access-keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        var problem = await (await user.Client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", problem.Detail());
    }

    [Fact]
    public async Task AKeyRevokedByAnotherProcess_IsRefusedWithinMoments_ThoughThisApiKeptItAsChecked()
    {
        var user = await factory.CreateUserAsync();
        await factory.Services.GetRequiredService<LiveRelay>().Listening;
        var keyId = (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys")).EnumerateArray().Single().GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await user.Client.GetAsync("/api/v1/me")).StatusCode);
        var cache = factory.Services.GetRequiredService<AccessKeyCache>();
        Assert.True(cache.TryGet(user.Key, out var kept));
        Assert.Equal(keyId, kept.KeyId);

        // As the Web process's key page does: its own AccessKeyService, so only the NOTIFY reaches this Api.
        var revoked = await factory.WithDbAsync(db => new AccessKeyService(db, TimeProvider.System).RevokeAsync(user.Id, keyId));
        Assert.True(revoked.IsSuccess);
        var deadline = DateTime.UtcNow.AddSeconds(2);
        HttpResponseMessage response;
        while ((response = await user.Client.GetAsync("/api/v1/me")).StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", problem.Detail());
        Assert.False(cache.TryGet(user.Key, out _));
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedWithAClearReason()
    {
        var user = await factory.CreateUserAsync();
        var key = await factory.CreateKeyAsync(user.Id, expiresAt: DateTimeOffset.UtcNow.AddDays(1));
        var prefix = key[..key.LastIndexOf('_')];
        await factory.WithDbAsync(db => db.AccessKeys.Where(k => k.Prefix == prefix)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));

        var problem = await (await factory.ClientWithKey(key).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.Detail());
    }

    [Fact]
    public async Task KeyWithTheRightPrefixButAnotherSecret_IsRefused()
    {
        var user = await factory.CreateUserAsync();
        var forged = user.Key[..(user.Key.LastIndexOf('_') + 1)] + new string('x', 40);
        await (await factory.ClientWithKey(forged).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ReadOnlyKey_ReadsButCannotWrite()
    {
        var user = await factory.CreateUserAsync();
        var readKey = await factory.CreateKeyAsync(user.Id, scope: "read");
        var client = factory.ClientWithKey(readKey);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/accounts")).StatusCode);
        var problem = await (await client.PostAsJsonAsync("/api/v1/accounts", new { name = "nope" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("read-only", problem.Detail());
        Assert.Single(await user.Client.GetFromJsonAsync<JsonElement[]>("/api/v1/accounts") ?? []);
    }

    [Fact]
    public async Task KeyUse_IsRecordedAsLastUsed()
    {
        var user = await factory.CreateUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await user.Client.GetAsync("/api/v1/me")).StatusCode);
        var keys = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys");
        var key = keys.EnumerateArray().Single();
        Assert.Equal(JsonValueKind.String, key.GetProperty("lastUsedAt").ValueKind);
        Assert.Equal("active", key.GetProperty("status").GetString());
    }

    [Fact]
    public async Task UnknownApiRoute_Is404ProblemDetails()
    {
        var user = await factory.CreateUserAsync();
        await (await user.Client.GetAsync("/api/v1/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OpenApiDocument_IsServedWithoutSignIn_AndListsTheRoutes()
    {
        var doc = await factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/me", paths);
        Assert.Contains("/api/v1/accounts/{accountId}/members/{userId}", paths);
        Assert.Contains("/api/v1/access-keys/{keyId}", paths);
    }

    [Fact]
    public async Task BearerWithoutAToken_IsTreatedAsNoCredentials()
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer");
        await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
