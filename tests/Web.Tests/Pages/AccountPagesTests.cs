using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;

namespace Platform.Web.Tests.Pages;

public sealed partial class AccountPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Invitation_LetsANewPersonRegisterAndLandAsAMember()
    {
        var master = await app.NewUserAsync(name: "Grace");
        var accountId = await CurrentAccountIdAsync(master.Email);
        var invitee = WebAppFixture.NewEmail("invitee");

        var sent = await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", invitee), ("Invite.Role", "member"));
        Assert.Equal(HttpStatusCode.Redirect, sent.Status);
        var token = await InvitationTokenAsync(invitee);

        var stranger = app.NewBrowser();
        var accept = await stranger.GetAsync($"/Invitations/Accept?token={token}");
        Assert.Contains("Grace's workspace", accept.Text);
        Assert.Contains("Register with this address", accept.Text);
        var register = await stranger.GetAsync($"/Account/Register?token={token}");
        Assert.Contains("You are joining Grace's workspace", register.Text);
        Assert.Equal(invitee, register.InputValue("Input_Email"));
        Assert.Matches("\\sreadonly[\\s=/>]", register.InputTag("Input_Email"));

        var registered = await stranger.RegisterAsync(invitee, "Invitee", token);

        Assert.Equal($"/Accounts/{accountId}", registered.Location?.OriginalString);
        var accountPage = await stranger.GetAsync($"/Accounts/{accountId}");
        Assert.Equal(HttpStatusCode.OK, accountPage.Status);
        Assert.Contains("You joined Grace's workspace as member", accountPage.Text);
        Assert.Equal(AccountRole.Member, await RoleAsync(accountId, invitee));
        Assert.Contains(">accepted<", (await master.GetAsync($"/Accounts/{accountId}")).Html);
    }

    [Fact]
    public async Task Invitation_IsAcceptedBySignedInInvitee_AndRefusedToAnotherAddress()
    {
        var master = await app.NewUserAsync();
        var accountId = await CurrentAccountIdAsync(master.Email);
        var invitee = await app.NewUserAsync();
        var other = await app.NewUserAsync();
        await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", invitee.Email), ("Invite.Role", "viewer"));
        var link = $"/Invitations/Accept?token={await InvitationTokenAsync(invitee.Email)}";

        var wrongUser = await other.GetAsync(link);
        Assert.Contains($"This invitation was sent to {invitee.Email}, but you are signed in as {other.Email}", wrongUser.Text);
        var forced = await other.PostAsync(link, []);
        Assert.Contains($"This invitation was sent to {invitee.Email}", forced.Text);
        Assert.Null(await RoleAsync(accountId, other.Email));

        Assert.Contains("Accept and join", (await invitee.GetAsync(link)).Text);
        var accepted = await invitee.PostAsync(link, []);
        Assert.Equal($"/Accounts/{accountId}", accepted.Location?.OriginalString);
        Assert.Equal(AccountRole.Viewer, await RoleAsync(accountId, invitee.Email));
        Assert.Contains("already been used", (await invitee.GetAsync(link)).Text);
    }

    [Fact]
    public async Task Viewer_SeesMembersReadOnly_AndAForgedInviteIsRefused()
    {
        var master = await app.NewUserAsync();
        var accountId = await CurrentAccountIdAsync(master.Email);
        var viewer = await app.NewUserAsync();
        await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", viewer.Email), ("Invite.Role", "viewer"));
        await viewer.PostAsync($"/Invitations/Accept?token={await InvitationTokenAsync(viewer.Email)}", []);

        var page = await viewer.GetAsync($"/Accounts/{accountId}");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains(master.Email, page.Text);
        Assert.DoesNotContain("handler=Invite", page.Html);
        Assert.DoesNotContain("Send invitation", page.Text);
        Assert.DoesNotContain("handler=Remove", page.Html);
        Assert.Contains("handler=Invite", (await master.GetAsync($"/Accounts/{accountId}")).Html);

        var forged = WebAppFixture.NewEmail("forged");
        var refused = await viewer.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", forged), ("Invite.Role", "master"));

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        await using var db = app.Db();
        Assert.False(await db.Invitations.AnyAsync(i => i.Email == forged));
        Assert.False(await db.Outbox.AnyAsync(m => m.To == forged));
    }

    [Fact]
    public async Task Master_ChangesRoles_RemovesMembers_AndRevokesInvitations()
    {
        var master = await app.NewUserAsync();
        var accountId = await CurrentAccountIdAsync(master.Email);
        var member = await app.NewUserAsync();
        await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", member.Email), ("Invite.Role", "member"));
        await member.PostAsync($"/Invitations/Accept?token={await InvitationTokenAsync(member.Email)}", []);
        var memberId = await UserIdAsync(member.Email);

        await master.PostAsync($"/Accounts/{accountId}?handler=Role", ("memberId", memberId.ToString()), ("role", "viewer"));
        Assert.Equal(AccountRole.Viewer, await RoleAsync(accountId, member.Email));

        var lastMaster = await master.PostAsync($"/Accounts/{accountId}?handler=Role", ("memberId", (await UserIdAsync(master.Email)).ToString()), ("role", "member"));
        Assert.Contains("at least one master", (await master.GetAsync(lastMaster.Location!.OriginalString)).Text);

        await master.PostAsync($"/Accounts/{accountId}?handler=Remove", ("memberId", memberId.ToString()));
        Assert.Null(await RoleAsync(accountId, member.Email));
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"/Accounts/{accountId}")).Status);

        var pending = WebAppFixture.NewEmail("pending");
        await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", pending), ("Invite.Role", "member"));
        var token = await InvitationTokenAsync(pending);
        await using (var db = app.Db())
        {
            var invitationId = await db.Invitations.Where(i => i.Email == pending).Select(i => i.Id).SingleAsync();
            await master.PostAsync($"/Accounts/{accountId}?handler=Revoke", ("invitationId", invitationId.ToString()));
        }

        Assert.Contains("withdrawn", (await app.NewBrowser().GetAsync($"/Invitations/Accept?token={token}")).Text);
    }

    [Fact]
    public async Task Invite_ShowsAnInvalidAddressBesideTheField()
    {
        var master = await app.NewUserAsync();
        var accountId = await CurrentAccountIdAsync(master.Email);

        var page = await master.PostAsync($"/Accounts/{accountId}?handler=Invite", ("Invite.Email", "not-an-address"), ("Invite.Role", "member"));

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("Enter a valid e-mail address.", page.FieldError("Invite.Email"));
    }

    [Fact]
    public async Task AccountSwitcher_ChangesTheCurrentAccount()
    {
        var browser = await app.NewUserAsync(name: "Switcher");
        var created = await browser.PostAsync("/Accounts?handler=Create", ("Input.Name", "Second team"));
        var secondId = Guid.Parse(created.Location!.OriginalString.Split('/').Last());
        Assert.Contains("You are working in Switcher's workspace", (await browser.GetAsync("/")).Text);

        var switched = await browser.PostAsync("/Accounts/Switch", [KeyValuePair.Create("accountId", secondId.ToString()),
            KeyValuePair.Create("returnUrl", "/Keys")], formPage: "/");

        Assert.Equal("/Keys", switched.Location?.OriginalString);
        Assert.Equal(secondId, await CurrentAccountIdAsync(browser.Email));
        var home = await browser.GetAsync("/");
        Assert.Contains("You are working in Second team", home.Text);
        var switcher = home.Fragment("class=\"dropdown-menu dropdown-menu-end account-switcher\"", "</form>");
        Assert.Matches("aria-current=\"true\">\\s*<span class=\"switch-check\" aria-hidden=\"true\">✓</span>\\s*<span[^>]*>Second team</span>", switcher);
        Assert.Matches("<span class=\"switch-check\" aria-hidden=\"true\"></span>\\s*<span[^>]*>Switcher's workspace</span>", switcher);
    }

    [Fact]
    public async Task AccountOfOthers_IsNotFound_EvenToSwitchTo()
    {
        var owner = await app.NewUserAsync();
        var accountId = await CurrentAccountIdAsync(owner.Email);
        var outsider = await app.NewUserAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/Accounts/{accountId}")).Status);
        var switched = await outsider.PostAsync("/Accounts/Switch", [KeyValuePair.Create("accountId", accountId.ToString())], formPage: "/");
        Assert.Equal(HttpStatusCode.NotFound, switched.Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/Accounts/{accountId}")).Status);
    }

    private async Task<Guid> CurrentAccountIdAsync(string email)
    {
        await using var db = app.Db();
        return await db.Users.Where(u => u.Email == email).Select(u => u.CurrentAccountId!.Value).SingleAsync();
    }

    private async Task<Guid> UserIdAsync(string email)
    {
        await using var db = app.Db();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }

    private async Task<AccountRole?> RoleAsync(Guid accountId, string email)
    {
        await using var db = app.Db();
        return await db.Memberships.Where(m => m.AccountId == accountId && m.User!.Email == email).Select(m => (AccountRole?)m.Role).SingleOrDefaultAsync();
    }

    /// <summary>The token from the invitation mail: the only place it exists (the database keeps a hash).</summary>
    private async Task<string> InvitationTokenAsync(string email)
    {
        var mail = await app.LastMailToAsync(email);
        var token = AcceptLink().Match(mail.TextBody);
        Assert.True(token.Success, $"no invitation link in: {mail.TextBody}");
        return token.Groups[1].Value;
    }

    [GeneratedRegex(@"http://localhost/Invitations/Accept\?token=(\w+)")]
    private static partial Regex AcceptLink();
}
