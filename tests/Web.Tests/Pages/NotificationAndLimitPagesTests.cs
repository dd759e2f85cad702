using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Notifications;

namespace Platform.Web.Tests.Pages;

public sealed class NotificationAndLimitPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    private async Task<(Guid UserId, Guid AccountId)> IdsAsync(string email)
    {
        await using var db = app.Db();
        var user = await db.Users.Where(u => u.Email == email).Select(u => new { u.Id, u.CurrentAccountId }).SingleAsync();
        return (user.Id, user.CurrentAccountId!.Value);
    }

    [Fact]
    public async Task TheBell_CountsUnread_AndTheNotificationsPage_MarksThemRead()
    {
        var browser = await app.NewUserAsync();
        var (userId, accountId) = await IdsAsync(browser.Email);
        long first;
        using (var scope = app.Factory.Services.CreateScope())
        {
            var notifications = scope.ServiceProvider.GetRequiredService<NotificationService>();
            first = (await notifications.AddAsync(userId, "test.note", "Notebook stopping soon", "Open it to keep it.", "/Deployments", accountId)).Id;
            await notifications.AddAsync(userId, "test.note", "Job finished", "Your job is done.", null, accountId);
        }

        var home = await browser.GetAsync("/");
        Assert.Contains("data-notification-count>2<", home.Html);
        var list = await browser.GetAsync("/Notifications");
        Assert.Contains("Notebook stopping soon", list.Text);
        Assert.Contains("Your job is done.", list.Text);
        Assert.True(list.Text.IndexOf("Job finished", StringComparison.Ordinal) < list.Text.IndexOf("Notebook stopping soon", StringComparison.Ordinal), "newest first");

        var open = await browser.PostAsync("/Notifications?handler=Read", ("id", first.ToString()), ("open", "1"));
        Assert.Equal(HttpStatusCode.Redirect, open.Status);
        Assert.Equal("/Deployments", open.Location?.OriginalString);
        Assert.Contains("data-notification-count>1<", (await browser.GetAsync("/Notifications")).Html);
        Assert.DoesNotContain("Notebook stopping soon", (await browser.GetAsync("/Notifications?unread=true")).Text);

        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/Notifications?handler=ReadAll")).Status);
        var after = await browser.GetAsync("/Notifications");
        Assert.Contains("1 notification marked read.", after.Text);
        Assert.Contains("data-notification-count>0<", after.Html);

        // Someone else's notification cannot be marked from another session.
        var other = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync("/Notifications?handler=Read", ("id", first.ToString()))).Status);
    }

    [Fact]
    public async Task AMaster_SetsIdleCullingAndMembersLimits_OnTheAccountsLimitsPage()
    {
        var master = await app.NewUserAsync();
        var (masterId, accountId) = await IdsAsync(master.Email);
        var page = await master.GetAsync($"/Accounts/{accountId}/Limits");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("nobody uses for 240 min is stopped", page.Text);

        var saved = await master.PostAsync($"/Accounts/{accountId}/Limits?handler=Idle", ("idleCullMinutes", "30"), ("idleWarningMinutes", "5"));
        Assert.Equal(HttpStatusCode.Redirect, saved.Status);
        Assert.Contains("nobody uses for 30 min is stopped", (await master.GetAsync($"/Accounts/{accountId}/Limits")).Text);

        var refused = await master.PostAsync($"/Accounts/{accountId}/Limits?handler=Member", ("memberId", masterId.ToString()), ("maxGpus", "3"));
        Assert.Equal(HttpStatusCode.Redirect, refused.Status);
        Assert.Contains("The platform allows this member at most 2 GPUs; an account limit cannot be higher.", (await master.GetAsync($"/Accounts/{accountId}/Limits")).Text);
        Assert.Equal(HttpStatusCode.Redirect, (await master.PostAsync($"/Accounts/{accountId}/Limits?handler=Member", ("memberId", masterId.ToString()), ("maxGpus", "1"))).Status);
        await using var db = app.Db();
        Assert.Equal(1, await db.Memberships.Where(m => m.AccountId == accountId && m.UserId == masterId).Select(m => m.MaxGpus).SingleAsync());
        Assert.Equal(30, await db.Accounts.Where(a => a.Id == accountId).Select(a => a.IdleCullMinutes).SingleAsync());

        var stranger = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Accounts/{accountId}/Limits")).Status);
    }
}
