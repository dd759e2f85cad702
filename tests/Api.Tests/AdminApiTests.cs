using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class AdminApiTests(ApiFactory factory) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private TestUser _admin = null!;
    private TestUser _user = null!;

    public async Task InitializeAsync()
    {
        // The first user registered on a platform becomes its admin.
        _admin = await factory.NamedUserAsync("admin");
        _user = await factory.NamedUserAsync("plain");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("/api/v1/admin/users")]
    [InlineData("/api/v1/admin/accounts")]
    [InlineData("/api/v1/admin/outbox")]
    [InlineData("/api/v1/admin/components")]
    [InlineData("/api/v1/admin/settings")]
    public async Task AdminRoutes_Are403ForOthers(string path)
    {
        await (await _user.Client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await _admin.Client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Users_ArePagedAndSearchable()
    {
        var page = await _admin.Client.GetFromJsonAsync<JsonElement>("/api/v1/admin/users?pageSize=1");
        Assert.True(page.GetProperty("total").GetInt32() >= 2);
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        Assert.True(page.GetProperty("items")[0].GetProperty("isPlatformAdmin").GetBoolean());

        var found = await _admin.Client.GetFromJsonAsync<JsonElement>($"/api/v1/admin/users?search={Uri.EscapeDataString(_user.Email)}");
        Assert.Equal(_user.Id, found.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Settings_InviteOnly_IsStored_AndBadValuesRefused()
    {
        var bad = await _admin.Client.PatchAsJsonAsync("/api/v1/admin/settings", new { registrationMode = "closed" });
        Assert.NotEmpty((await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("registrationMode"));

        var set = await _admin.Client.PatchAsJsonAsync("/api/v1/admin/settings", new { registrationMode = "invite-only" });
        Assert.Equal("invite-only", (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("registrationMode").GetString());
        var reset = await _admin.Client.PatchAsJsonAsync("/api/v1/admin/settings", new { registrationMode = "open" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
    }

    [Fact]
    public async Task LastAdmin_CannotWithdrawThemselves_ButCanGrantAnother()
    {
        var self = await _admin.Client.PatchAsJsonAsync($"/api/v1/admin/users/{_admin.Id}", new { isPlatformAdmin = false });
        await self.AssertProblemAsync(HttpStatusCode.Conflict);

        var other = await factory.CreateUserAsync("deputy");
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.Client.PatchAsJsonAsync($"/api/v1/admin/users/{other.Id}", new { isPlatformAdmin = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/api/v1/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.Client.PatchAsJsonAsync($"/api/v1/admin/users/{other.Id}", new { isPlatformAdmin = false })).StatusCode);
        await (await other.Client.GetAsync("/api/v1/admin/users")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Components_ReportDatabaseAndStorage()
    {
        var components = await _admin.Client.GetFromJsonAsync<JsonElement>("/api/v1/admin/components");
        var byName = components.EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Healthy", byName["database"]);
        Assert.Equal("Unhealthy", byName["workers"]);
        Assert.Contains("api", byName.Keys);
        Assert.Contains("storage", byName.Keys);
    }

    [Fact]
    public async Task Quota_SetByAnAdmin_IsEnforced_AndTheAccountsListShowsUsage()
    {
        var owner = await factory.CreateUserAsync("quoted");
        var dataset = await (await owner.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "q" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = dataset.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/a.bin", new ByteArrayContent(new byte[300]))).StatusCode);

        await (await owner.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{owner.AccountId}/quota", new { storageQuotaBytes = 10 }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        var bad = await _admin.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{owner.AccountId}/quota", new { storageQuotaBytes = -1 });
        Assert.NotEmpty((await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("storageQuotaBytes"));
        Assert.Equal(HttpStatusCode.NoContent,
            (await _admin.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{owner.AccountId}/quota", new { storageQuotaBytes = 500 })).StatusCode);

        var refused = await owner.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/b.bin", new ByteArrayContent(new byte[300]));
        await refused.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        var listed = await _admin.Client.GetFromJsonAsync<JsonElement>($"/api/v1/admin/accounts?search={Uri.EscapeDataString("quoted")}");
        var row = listed.GetProperty("items").EnumerateArray().Single(a => a.GetProperty("id").GetGuid() == owner.AccountId);
        Assert.Equal(300, row.GetProperty("usedBytes").GetInt64());
        Assert.Equal(500, row.GetProperty("storageQuotaBytes").GetInt64());
    }
}
