using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class AccountsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task CreateAccount_MakesTheCallerMaster()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/accounts", new { name = "  Vision team " });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var account = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Vision team", account.GetProperty("name").GetString());
        Assert.Equal("master", account.GetProperty("role").GetString());
        Assert.EndsWith($"/api/v1/accounts/{account.GetProperty("id").GetGuid()}", response.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"name\":\"   \"}")]
    public async Task CreateAccount_WithoutAName_Is400WithTheFieldError(string body)
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsync("/api/v1/accounts", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Name is required.", problem.FieldErrors("name"));
    }

    [Fact]
    public async Task CreateAccount_WithMalformedJson_Is400SayingSo()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsync("/api/v1/accounts", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("JSON", problem.Detail());
    }

    [Fact]
    public async Task CreateAccount_WithAnOversizedBody_Is413()
    {
        var user = await factory.CreateUserAsync();
        var huge = JsonSerializer.Serialize(new { name = new string('a', 2 * 1024 * 1024) });
        var response = await user.Client.PostAsync("/api/v1/accounts", new StringContent(huge, Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("at most", problem.Detail());
    }

    [Fact]
    public async Task AnotherAccountsId_Is404_ForReadsAndWrites()
    {
        var alice = await factory.CreateUserAsync("alice");
        var bob = await factory.CreateUserAsync("bob");

        await (await bob.Client.GetAsync($"/api/v1/accounts/{alice.AccountId}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bob.Client.GetAsync($"/api/v1/accounts/{alice.AccountId}/members")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bob.Client.PatchAsJsonAsync($"/api/v1/accounts/{alice.AccountId}", new { name = "mine" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bob.Client.PostAsJsonAsync($"/api/v1/accounts/{alice.AccountId}/invitations", new { email = "x@example.test" }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await bob.Client.PostAsJsonAsync("/api/v1/me/current-account", new { accountId = alice.AccountId }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invitation_Accepted_MakesAMemberWithTheInvitedRole()
    {
        var master = await factory.CreateUserAsync("master");
        var invitee = await factory.CreateUserAsync("invitee");
        await factory.JoinAsync(master, master.AccountId, invitee, "member");

        var members = await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}/members");
        Assert.Equal(2, members.GetProperty("total").GetInt32());
        var joined = members.GetProperty("items").EnumerateArray().Single(m => m.GetProperty("userId").GetGuid() == invitee.Id);
        Assert.Equal("member", joined.GetProperty("role").GetString());

        var me = await invitee.Client.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal(2, me.GetProperty("accounts").GetArrayLength());
        Assert.Equal(master.AccountId, me.GetProperty("currentAccountId").GetGuid());
    }

    [Fact]
    public async Task Invitation_UsedTwice_Or_ByAnotherAddress_IsRefused()
    {
        var master = await factory.CreateUserAsync("master");
        var invitee = await factory.CreateUserAsync("invitee");
        var stranger = await factory.CreateUserAsync("stranger");
        Assert.Equal(HttpStatusCode.Created,
            (await master.Client.PostAsJsonAsync($"/api/v1/accounts/{master.AccountId}/invitations", new { email = invitee.Email, role = "viewer" })).StatusCode);
        var token = await factory.InvitationTokenFromOutboxAsync(invitee.Email);

        var wrong = await stranger.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token });
        Assert.Contains(invitee.Email, (await wrong.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail());

        Assert.Equal(HttpStatusCode.OK, (await invitee.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token })).StatusCode);
        var again = await invitee.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token });
        Assert.Contains("already been used", (await again.AssertProblemAsync(HttpStatusCode.Conflict)).Detail());

        await (await invitee.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token = "nonsense" })).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RevokedInvitation_CannotBeAccepted()
    {
        var master = await factory.CreateUserAsync("master");
        var invitee = await factory.CreateUserAsync("invitee");
        var created = await (await master.Client.PostAsJsonAsync($"/api/v1/accounts/{master.AccountId}/invitations", new { email = invitee.Email }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var token = await factory.InvitationTokenFromOutboxAsync(invitee.Email);
        Assert.Equal(HttpStatusCode.NoContent,
            (await master.Client.DeleteAsync($"/api/v1/accounts/{master.AccountId}/invitations/{created.GetProperty("id").GetGuid()}")).StatusCode);

        var accept = await invitee.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token });
        Assert.Contains("withdrawn", (await accept.AssertProblemAsync(HttpStatusCode.Conflict)).Detail());
        var list = await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}/invitations");
        Assert.Equal("revoked", list.EnumerateArray().Single().GetProperty("status").GetString());
    }

    [Fact]
    public async Task Invite_WithBadFields_Is400ForEachField()
    {
        var master = await factory.CreateUserAsync();
        var response = await master.Client.PostAsJsonAsync($"/api/v1/accounts/{master.AccountId}/invitations", new { email = "not an address", role = "owner" });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors("email"));
        Assert.NotEmpty(problem.FieldErrors("role"));
    }

    [Fact]
    public async Task Viewer_CanRead_ButWritingIs403()
    {
        var master = await factory.CreateUserAsync("master");
        var viewer = await factory.CreateUserAsync("viewer");
        await factory.JoinAsync(master, master.AccountId, viewer, "viewer");

        Assert.Equal(HttpStatusCode.OK, (await viewer.Client.GetAsync($"/api/v1/accounts/{master.AccountId}/members")).StatusCode);
        var invite = await viewer.Client.PostAsJsonAsync($"/api/v1/accounts/{master.AccountId}/invitations", new { email = "x@example.test" });
        Assert.Contains("master", (await invite.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail());
        await (await viewer.Client.PatchAsJsonAsync($"/api/v1/accounts/{master.AccountId}", new { name = "renamed" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await viewer.Client.PutAsJsonAsync($"/api/v1/accounts/{master.AccountId}/members/{viewer.Id}", new { role = "master" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await viewer.Client.DeleteAsync($"/api/v1/accounts/{master.AccountId}/members/{master.Id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Master_ChangesRoles_ButTheLastMasterStays()
    {
        var master = await factory.CreateUserAsync("master");
        var member = await factory.CreateUserAsync("member");
        await factory.JoinAsync(master, master.AccountId, member, "member");

        var demoteSelf = await master.Client.PutAsJsonAsync($"/api/v1/accounts/{master.AccountId}/members/{master.Id}", new { role = "member" });
        Assert.Contains("at least one master", (await demoteSelf.AssertProblemAsync(HttpStatusCode.Conflict)).Detail());

        var promote = await master.Client.PutAsJsonAsync($"/api/v1/accounts/{master.AccountId}/members/{member.Id}", new { role = "master" });
        Assert.Equal("master", (await promote.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK,
            (await master.Client.PutAsJsonAsync($"/api/v1/accounts/{master.AccountId}/members/{master.Id}", new { role = "viewer" })).StatusCode);
    }

    [Fact]
    public async Task Member_CanLeave_AndMasterCanRemove()
    {
        var master = await factory.CreateUserAsync("master");
        var leaver = await factory.CreateUserAsync("leaver");
        var removed = await factory.CreateUserAsync("removed");
        await factory.JoinAsync(master, master.AccountId, leaver, "member");
        await factory.JoinAsync(master, master.AccountId, removed, "viewer");

        Assert.Equal(HttpStatusCode.NoContent, (await leaver.Client.DeleteAsync($"/api/v1/accounts/{master.AccountId}/members/{leaver.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await master.Client.DeleteAsync($"/api/v1/accounts/{master.AccountId}/members/{removed.Id}")).StatusCode);
        await (await removed.Client.GetAsync($"/api/v1/accounts/{master.AccountId}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var members = await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}/members");
        Assert.Equal(1, members.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Members_ArePagedAndSearchable()
    {
        var master = await factory.CreateUserAsync("pager");
        for (var i = 0; i < 3; i++)
        {
            await factory.JoinAsync(master, master.AccountId, await factory.CreateUserAsync($"paged{i}"), "viewer");
        }

        var page = await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}/members?page=2&pageSize=3");
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        var search = await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{master.AccountId}/members?search=paged1");
        Assert.Equal(1, search.GetProperty("total").GetInt32());
    }
}
