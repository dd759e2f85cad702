using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>
/// Sharing a deployment with named users (they read it, open its IDE, change nothing) and masters of its account
/// seeing and stopping members' deployments. Visible-but-not-allowed is 403, as for datasets; invisible is 404.
/// </summary>
public sealed class DeploymentSharingTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private static async Task<Guid> DeployAsync(TestUser owner, string title = "shared notebook")
    {
        var response = await owner.Client.PostAsJsonAsync("/api/v1/deployments", new { module = "development", title, password = "open sesame 42" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid[]> ListAsync(TestUser user, string? scope = null) =>
        (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/deployments" + (scope is null ? "" : $"?scope={scope}")))
        .GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToArray();

    [Fact]
    public async Task Sharee_SeesItAsSharedWithMe_ButCannotStopStartDeleteOrShare_AndUnshareIsImmediate()
    {
        var owner = await factory.CreateUserAsync("sharing-owner");
        var sharee = await factory.CreateUserAsync("sharee");
        var third = await factory.CreateUserAsync("third");
        var id = await DeployAsync(owner);
        await (await sharee.Client.GetAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var shared = await owner.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email = "  " + sharee.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Created, shared.StatusCode);
        Assert.Equal($"/api/v1/deployments/{id}/shares/{sharee.Id}", shared.Headers.Location?.OriginalString);
        var share = await shared.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(sharee.Email, share.GetProperty("email").GetString());
        // Sharing again is harmless.
        Assert.Equal(HttpStatusCode.Created, (await owner.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email = sharee.Email })).StatusCode);
        var shares = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/shares");
        Assert.Equal([sharee.Id], shares.EnumerateArray().Select(s => s.GetProperty("userId").GetGuid()).ToArray());

        var seen = await sharee.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}");
        Assert.Equal("shared", seen.GetProperty("access").GetString());
        Assert.Equal("owner", (await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}")).GetProperty("access").GetString());
        Assert.Equal([id], await ListAsync(sharee));
        Assert.Equal([id], await ListAsync(sharee, "shared"));
        Assert.Empty(await ListAsync(sharee, "mine"));
        Assert.Empty(await ListAsync(owner, "shared"));
        Assert.Equal(HttpStatusCode.OK, (await sharee.Client.GetAsync($"/api/v1/deployments/{id}/events")).StatusCode);

        await (await sharee.Client.PostAsync($"/api/v1/deployments/{id}/stop", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await sharee.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await sharee.Client.DeleteAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await sharee.Client.GetAsync($"/api/v1/deployments/{id}/shares")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await sharee.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email = third.Email })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await sharee.Client.DeleteAsync($"/api/v1/deployments/{id}/shares/{sharee.Id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("running", (await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}")).GetProperty("desired").GetString());

        // Someone it is not shared with: it does not exist.
        await (await third.Client.GetAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await third.Client.GetAsync($"/api/v1/deployments/{id}/shares")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await third.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email = third.Email })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await third.Client.DeleteAsync($"/api/v1/deployments/{id}/shares/{sharee.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(await ListAsync(third));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/deployments/{id}/shares/{sharee.Id}")).StatusCode);
        await (await sharee.Client.GetAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(await ListAsync(sharee));
        await (await owner.Client.DeleteAsync($"/api/v1/deployments/{id}/shares/{sharee.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var events = (await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/events"))
            .GetProperty("items").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains($"Shared with {sharee.Email} by sharing-owner", events);
        Assert.Contains($"No longer shared with {sharee.Email} (sharing-owner)", events);
    }

    [Fact]
    public async Task Share_WithAnUnknownOrMissingEmail_OrWithOneself_IsAFieldError()
    {
        var owner = await factory.CreateUserAsync();
        var id = await DeployAsync(owner);
        foreach (var email in new[] { "nobody-here@example.test", "", owner.Email })
        {
            var problem = await (await owner.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email })).AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.NotEmpty(problem.FieldErrors("email"));
        }

        Assert.Equal(0, (await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/shares")).GetArrayLength());
    }

    [Fact]
    public async Task AccountMasters_SeeMembersDeployments_WithScopeAccount_AndMayStopButNotStartDeleteOrShare()
    {
        var master = await factory.CreateUserAsync("master");
        var member = await factory.CreateUserAsync("member");
        var outsider = await factory.CreateUserAsync("outsider");
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var own = await DeployAsync(master, "masters own");
        var members = await member.Client.PostAsJsonAsync("/api/v1/deployments",
            new { accountId = master.AccountId, module = "development", title = "members", password = "open sesame 42" });
        Assert.Equal(HttpStatusCode.Created, members.StatusCode);
        var id = (await members.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var elsewhere = await DeployAsync(outsider, "not in the account");

        // Not in the master's own list; in the account scope, with every deployment of the accounts they are master of.
        Assert.Equal([own], await ListAsync(master));
        var account = await ListAsync(master, "account");
        Assert.Equal([id, own], account);
        Assert.DoesNotContain(elsewhere, account);
        // A member is master of their own personal account only: the shared account's deployments stay out.
        Assert.DoesNotContain(own, await ListAsync(member, "account"));
        Assert.Equal("master", (await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}")).GetProperty("access").GetString());

        await (await master.Client.DeleteAsync($"/api/v1/deployments/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await master.Client.PostAsJsonAsync($"/api/v1/deployments/{id}/shares", new { email = outsider.Email })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var stopped = await master.Client.PostAsync($"/api/v1/deployments/{id}/stop", null);
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Equal("stopped", (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("desired").GetString());
        await (await master.Client.PostAsync($"/api/v1/deployments/{id}/start", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var events = (await member.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/events"))
            .GetProperty("items").EnumerateArray().Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("Stop requested by master", events);

        // The member cannot use the account scope to see the master's deployment, nor stop it.
        await (await member.Client.PostAsync($"/api/v1/deployments/{own}/stop", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await member.Client.GetAsync("/api/v1/deployments?scope=everything")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
