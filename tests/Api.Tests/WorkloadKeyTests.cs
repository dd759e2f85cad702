using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Deployments;

namespace Platform.Api.Tests;

/// <summary>
/// The PLATFORM_API_KEY a launched workload carries: it acts as the deployment's owner while the deployment is wanted
/// running and is starting or running, and not a moment longer. Rows are armed here as Workers arm them (the hash of a
/// key from <see cref="WorkloadKeys.New"/> in TokenHash), with the observed state set directly.
/// </summary>
public sealed class WorkloadKeyTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private async Task<Guid> DeployAsync(TestUser owner, string title = "notebook")
    {
        var response = await owner.Client.PostAsJsonAsync("/api/v1/deployments", new { module = "development", title, password = "open sesame 42" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>What the reconciler records once the backend has launched the workload.</summary>
    private async Task<string> LaunchAsync(Guid deploymentId, ObservedState observed = ObservedState.Running)
    {
        var key = WorkloadKeys.New(deploymentId);
        var hash = Secrets.Hash(key);
        await factory.WithDbAsync(db => db.Deployments.Where(d => d.Id == deploymentId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.TokenHash, hash).SetProperty(d => d.Observed, observed)));
        return key;
    }

    private async Task<Guid> CreateDatasetAsync(TestUser user, string name)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name, description = "d" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task WorkloadKey_ActsAsTheOwner_InTheDeploymentsAccount_WithFullScope()
    {
        var owner = await factory.CreateUserAsync("kernel-owner");
        var datasetId = await CreateDatasetAsync(owner, "owners-images");
        var id = await DeployAsync(owner);
        var key = await LaunchAsync(id);
        Assert.Matches("^plat_dep_[0-9a-f]{32}_[0-9A-Za-z]{40}$", key);
        using var workload = factory.ClientWithKey(key);

        var me = await workload.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal(owner.Id, me.GetProperty("user").GetProperty("id").GetGuid());
        Assert.Equal(id, me.GetProperty("deploymentId").GetGuid());
        Assert.Equal(owner.AccountId, me.GetProperty("currentAccountId").GetGuid());

        Assert.Contains("owners-images", await workload.GetStringAsync("/api/v1/datasets"));
        Assert.Equal(HttpStatusCode.OK, (await workload.GetAsync($"/api/v1/datasets/{datasetId}")).StatusCode);
        // Full scope: code in the notebook can make things, as its owner.
        Assert.Equal(HttpStatusCode.Created, (await workload.PostAsJsonAsync("/api/v1/datasets", new { name = "from-the-kernel" })).StatusCode);
        Assert.Contains("from-the-kernel", await owner.Client.GetStringAsync("/api/v1/datasets"));
        Assert.Equal(id, (await workload.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}")).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task WorkloadKey_WorksWhileStarting_AndStopsWorkingTheMomentStopIsAsked()
    {
        var owner = await factory.CreateUserAsync();
        var id = await DeployAsync(owner);
        var key = await LaunchAsync(id, ObservedState.Starting);
        using var workload = factory.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await workload.GetAsync("/api/v1/me")).StatusCode);
        await LaunchAsync(id); // running now, same deployment, a fresh key of a later launch
        await (await workload.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var current = await LaunchAsync(id);
        using var running = factory.ClientWithKey(current);
        Assert.Equal(HttpStatusCode.OK, (await running.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PostAsync($"/api/v1/deployments/{id}/stop", null)).StatusCode);
        // Still observed running (Workers have not acted yet), but no longer wanted: refused at once.
        var refused = await (await running.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("not running", refused.Detail());

        // Started again while the old process somehow still runs: the old key stays dead once Workers clear it.
        await factory.WithDbAsync(db => db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Observed, ObservedState.Stopped).SetProperty(d => d.TokenHash, (byte[]?)null)));
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).StatusCode);
        await (await running.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DeletedOrQueuedDeployments_KeysAreRefused()
    {
        var owner = await factory.CreateUserAsync();
        var queued = await DeployAsync(owner, "queued");
        var queuedKey = await LaunchAsync(queued, ObservedState.Queued);
        using (var client = factory.ClientWithKey(queuedKey))
        {
            await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        var deleted = await DeployAsync(owner, "deleted");
        var deletedKey = await LaunchAsync(deleted);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/deployments/{deleted}")).StatusCode);
        using (var client = factory.ClientWithKey(deletedKey))
        {
            await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task ForgedKeys_AreUnauthorized_WithoutSayingWhetherTheDeploymentExists()
    {
        var owner = await factory.CreateUserAsync();
        var id = await DeployAsync(owner);
        var key = await LaunchAsync(id);
        var forgedSecret = key[..^40] + new string('A', 40);
        var unknownId = WorkloadKeys.New(Guid.NewGuid());
        string[] forged =
        [
            forgedSecret,
            unknownId,
            key + "x",
            key.Replace("plat_dep_", "plat_dep", StringComparison.Ordinal),
            $"plat_dep_{id:N}",
            $"plat_dep_{id}_{key[^40..]}",
            "plat_dep_" + new string('z', 32) + "_" + key[^40..],
        ];
        foreach (var presented in forged)
        {
            using var client = factory.ClientWithKey(presented);
            var problem = await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.DoesNotContain(id.ToString(), problem.Detail());
        }

        Assert.Equal((await (await factory.ClientWithKey(forgedSecret).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized)).Detail(),
            (await (await factory.ClientWithKey(unknownId).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized)).Detail());
        // The genuine key still works, and an access key is still told apart from a workload key.
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(key).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task AnotherUsersWorkload_ReachesOnlyWhatItsOwnerMay()
    {
        var alice = await factory.CreateUserAsync("alice");
        var bob = await factory.CreateUserAsync("bob");
        var alicesData = await CreateDatasetAsync(alice, "alices-private");
        var alicesDeployment = await DeployAsync(alice, "alices notebook");
        var bobsDeployment = await DeployAsync(bob, "bobs notebook");
        using var bobsWorkload = factory.ClientWithKey(await LaunchAsync(bobsDeployment));

        Assert.Equal(bob.Id, (await bobsWorkload.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("user").GetProperty("id").GetGuid());
        Assert.DoesNotContain("alices-private", await bobsWorkload.GetStringAsync("/api/v1/datasets"));
        await (await bobsWorkload.GetAsync($"/api/v1/datasets/{alicesData}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bobsWorkload.GetAsync($"/api/v1/deployments/{alicesDeployment}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bobsWorkload.PostAsync($"/api/v1/deployments/{alicesDeployment}/stop", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bobsWorkload.GetAsync($"/api/v1/accounts/{alice.AccountId}/members")).AssertProblemAsync(HttpStatusCode.NotFound);
        var mine = await bobsWorkload.GetFromJsonAsync<JsonElement>("/api/v1/deployments");
        Assert.Equal([bobsDeployment], mine.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToArray());

        // Once Alice shares her deployment with Bob, his workload sees it as he does: readable, not changeable.
        Assert.Equal(HttpStatusCode.Created, (await alice.Client.PostAsJsonAsync($"/api/v1/deployments/{alicesDeployment}/shares", new { email = bob.Email })).StatusCode);
        Assert.Equal("shared", (await bobsWorkload.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{alicesDeployment}")).GetProperty("access").GetString());
        await (await bobsWorkload.PostAsync($"/api/v1/deployments/{alicesDeployment}/stop", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
