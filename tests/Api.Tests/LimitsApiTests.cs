using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Catalog;
using Platform.Tests.Fixtures;

namespace Platform.Api.Tests;

/// <summary>The API with a module that takes up to 2 GPUs and a platform default of 3 deployments per user.</summary>
public sealed class LimitsApiFactory : ApiFactory
{
    public static ModuleManifest Trainer { get; } = StaticModuleCatalog.Development with
    {
        Name = "trainer",
        Resources = new ModuleResources(new ResourceRequest(1, 0, 1024, 1), new ResourceRequest(8, 2, 8192, 10)),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Platform:Limits:MaxDeployments", "3");
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<IModuleCatalog>();
            s.AddSingleton<IModuleCatalog>(new StaticModuleCatalog(StaticModuleCatalog.Development, Trainer));
        });
    }
}

public sealed class LimitsApiTests(LimitsApiFactory factory) : IClassFixture<LimitsApiFactory>
{
    private static async Task<HttpResponseMessage> DeployAsync(TestUser user, int gpus = 0, double cpus = 1, Guid? accountId = null) =>
        await user.Client.PostAsJsonAsync("/api/v1/deployments",
            new { accountId = accountId ?? user.AccountId, module = "trainer", title = "Run", password = "open sesame 42", gpus, cpus });

    private static async Task<Guid> DeployedAsync(TestUser user, int gpus = 0, double cpus = 1, Guid? accountId = null)
    {
        var response = await DeployAsync(user, gpus, cpus, accountId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>A platform admin; called first, so the users a test makes after it are never the platform's first (an admin too).</summary>
    private async Task<TestUser> AdminAsync()
    {
        var admin = await factory.CreateUserAsync("admin");
        await factory.WithDbAsync(db => db.Users.Where(u => u.Id == admin.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsPlatformAdmin, true)));
        return admin;
    }

    [Fact]
    public async Task ThePlatformDefault_CapsDeploymentsWantedRunning_AtCreateAndAtStart()
    {
        var user = await factory.CreateUserAsync();
        var ids = new[] { await DeployedAsync(user), await DeployedAsync(user), await DeployedAsync(user) };

        var refused = await (await DeployAsync(user)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("You already run 3 of your 3 allowed deployments.", refused.Detail());

        // A stopped deployment no longer counts; starting it again counts it again.
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/deployments/{ids[0]}/stop", null)).StatusCode);
        var fourth = await DeployedAsync(user);
        var start = await (await user.Client.PostAsync($"/api/v1/deployments/{ids[0]}/start", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("You already run 3 of your 3 allowed deployments.", start.Detail());

        // Deleted ones do not count either.
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/deployments/{fourth}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/deployments/{ids[0]}/start", null)).StatusCode);

        var mine = await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/me/limits");
        var deployments = mine.GetProperty("platform").GetProperty("deployments");
        Assert.Equal(3, deployments.GetProperty("limit").GetDouble());
        Assert.Equal(3, deployments.GetProperty("used").GetDouble());
        Assert.Equal(2, mine.GetProperty("platform").GetProperty("gpus").GetProperty("limit").GetDouble());
        Assert.Equal(3, mine.GetProperty("platform").GetProperty("cpus").GetProperty("used").GetDouble());
    }

    [Fact]
    public async Task GpusAreCappedAtTwoPerUser_WithTheExactReason_UntilAnAdminRaisesIt()
    {
        var admin = await AdminAsync();
        var user = await factory.CreateUserAsync();
        await DeployedAsync(user, gpus: 1);
        var problem = await (await DeployAsync(user, gpus: 2)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["This needs 2 GPUs; you use 1 of your 2."], problem.FieldErrors("gpus"));

        await (await user.Client.PutAsJsonAsync($"/api/v1/admin/users/{user.Id}/limits", new { maxGpus = 4 })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var raised = await admin.Client.PutAsJsonAsync($"/api/v1/admin/users/{user.Id}/limits", new { maxGpus = 3, maxCpus = 3.5 });
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        var limits = await raised.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, limits.GetProperty("maxGpus").GetInt32());
        Assert.Equal(JsonValueKind.Null, limits.GetProperty("maxDeployments").ValueKind);
        Assert.Equal(3, limits.GetProperty("effective").GetProperty("deployments").GetProperty("limit").GetDouble());
        Assert.Equal(1, limits.GetProperty("effective").GetProperty("gpus").GetProperty("used").GetDouble());
        await DeployedAsync(user, gpus: 2);

        var cpus = await (await DeployAsync(user, cpus: 2)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["This needs 2 CPUs; you use 2 of your 3.5."], cpus.FieldErrors("cpus"));
        var invalid = await (await admin.Client.PutAsJsonAsync($"/api/v1/admin/users/{user.Id}/limits", new { maxGpus = -1 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Single(invalid.FieldErrors("maxGpus"));
        await (await admin.Client.GetAsync($"/api/v1/admin/users/{Guid.NewGuid()}/limits")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AMaster_SetsMembersLimitsInTheAccount_NeverAboveThePlatforms_AndOthersCannot()
    {
        var master = await factory.CreateUserAsync("master");
        var member = await factory.CreateUserAsync("member");
        var outsider = await factory.CreateUserAsync("outsider");
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var path = $"/api/v1/accounts/{master.AccountId}/members/{member.Id}/limits";

        var above = await (await master.Client.PutAsJsonAsync(path, new { maxGpus = 3 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["The platform allows this member at most 2 GPUs; an account limit cannot be higher."], above.FieldErrors("maxGpus"));
        await (await member.Client.PutAsJsonAsync(path, new { maxGpus = 2 })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await outsider.Client.PutAsJsonAsync(path, new { maxGpus = 2 })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await master.Client.GetAsync($"/api/v1/accounts/{master.AccountId}/members/{outsider.Id}/limits")).AssertProblemAsync(HttpStatusCode.NotFound);

        var set = await master.Client.PutAsJsonAsync(path, new { maxGpus = 1, maxDeployments = 1 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var shown = await master.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal(1, shown.GetProperty("maxGpus").GetInt32());
        Assert.Equal(2, shown.GetProperty("platform").GetProperty("gpus").GetProperty("limit").GetDouble());

        // The account's caps count the member's work in that account only.
        await DeployedAsync(member, gpus: 0, accountId: master.AccountId);
        var second = await (await DeployAsync(member, accountId: master.AccountId)).AssertProblemAsync(HttpStatusCode.Conflict);
        var accountName = (await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}")).GetProperty("name").GetString();
        Assert.Equal($"You already run 1 of your 1 allowed deployments in {accountName}.", second.Detail());
        await DeployedAsync(member, gpus: 2);

        var mine = await member.Client.GetFromJsonAsync<JsonElement>("/api/v1/me/limits");
        Assert.Equal(2, mine.GetProperty("platform").GetProperty("deployments").GetProperty("used").GetDouble());
        var inMasters = mine.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("accountId").GetGuid() == master.AccountId);
        Assert.Equal(1, inMasters.GetProperty("limits").GetProperty("deployments").GetProperty("used").GetDouble());
        Assert.Equal(1, inMasters.GetProperty("limits").GetProperty("gpus").GetProperty("limit").GetDouble());

        // Clearing the member's caps leaves only the platform's.
        Assert.Equal(HttpStatusCode.OK, (await master.Client.PutAsJsonAsync(path, new { })).StatusCode);
        await DeployedAsync(member, accountId: master.AccountId);
    }

    [Fact]
    public async Task IdleCulling_IsReadByMembers_SetByMastersAndAdmins()
    {
        var admin = await AdminAsync();
        var master = await factory.CreateUserAsync("idle-master");
        var member = await factory.CreateUserAsync("idle-member");
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var path = $"/api/v1/accounts/{master.AccountId}/idle-culling";

        var defaults = await member.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("idleCullMinutes").ValueKind);
        Assert.Equal(240, defaults.GetProperty("effectiveCullMinutes").GetInt32());
        Assert.Equal(10, defaults.GetProperty("effectiveWarningMinutes").GetInt32());

        await (await member.Client.PutAsJsonAsync(path, new { idleCullMinutes = 30 })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var set = await master.Client.PutAsJsonAsync(path, new { idleCullMinutes = 30, idleWarningMinutes = 5 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(30, (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("effectiveCullMinutes").GetInt32());
        var bad = await (await master.Client.PutAsJsonAsync(path, new { idleCullMinutes = 30, idleWarningMinutes = 30 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["The warning comes 0 to 29 minutes before the stop."], bad.FieldErrors("idleWarningMinutes"));

        await (await admin.Client.PutAsJsonAsync(path, new { idleCullMinutes = 0 })).AssertProblemAsync(HttpStatusCode.NotFound);
        var off = await admin.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{master.AccountId}/idle-culling", new { idleCullMinutes = 0 });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal(0, (await member.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("effectiveCullMinutes").GetInt32());
        await (await master.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{master.AccountId}/idle-culling", new { idleCullMinutes = 9 })).AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
