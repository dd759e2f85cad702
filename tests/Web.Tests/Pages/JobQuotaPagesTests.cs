using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

public sealed class JobQuotaPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    private async Task<(Guid UserId, Guid AccountId)> IdsAsync(string email)
    {
        await using var db = app.Db();
        var user = await db.Users.Where(u => u.Email == email).Select(u => new { u.Id, u.CurrentAccountId }).SingleAsync();
        return (user.Id, user.CurrentAccountId!.Value);
    }

    [Fact]
    public async Task AnAdminSetsAnAccountsJobQuotas_AndItsMasterSetsMembersWithinThem_WithMessagesBesideTheFields()
    {
        var admin = await app.NewUserAsync();
        var (adminId, _) = await IdsAsync(admin.Email);
        await using (var db = app.Db())
        {
            await db.Users.Where(u => u.Id == adminId).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsPlatformAdmin, true));
        }

        var master = await app.NewUserAsync();
        var (masterId, accountId) = await IdsAsync(master.Email);
        var adminPage = $"/Admin/JobQuotas/{accountId}";
        Assert.NotEqual(HttpStatusCode.OK, (await master.GetAsync(adminPage)).Status);
        Assert.Contains("This account has the platform's quotas", (await admin.GetAsync(adminPage)).Text);

        var invalid = await admin.PostAsync(adminPage, ("Input.MaxGpus", "2"), ("Input.Weight", "0"));
        Assert.Equal(HttpStatusCode.OK, invalid.Status);
        Assert.Contains("The weight is more than 0 and at most 1000", invalid.Fragment("id=\"Input_Weight\"", "</div>\n    </div>"));
        Assert.Contains("is-invalid", invalid.InputTag("Input_Weight"));
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostAsync(adminPage, ("Input.MaxGpus", "2"), ("Input.Weight", "2"))).Status);
        Assert.Equal("2", (await admin.GetAsync(adminPage)).InputValue("Input_MaxGpus"));

        var memberPage = $"/Accounts/{accountId}/JobQuotas?member={masterId}";
        var page = await master.GetAsync(memberPage);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("GPU-hours today", page.Text);
        var above = await master.PostAsync(memberPage, ("Input.MaxGpus", "3"));
        Assert.Equal(HttpStatusCode.OK, above.Status);
        Assert.Contains("The account allows at most 2 GPUs; a member's limit cannot be higher.", above.Fragment("id=\"Input_MaxGpus\"", "</div>\n    </div>"));
        Assert.Equal(HttpStatusCode.Redirect, (await master.PostAsync(memberPage, ("Input.MaxGpus", "1"))).Status);
        await using (var db = app.Db())
        {
            Assert.Equal(1, await db.JobQuotas.Where(q => q.AccountId == accountId && q.UserId == masterId).Select(q => q.MaxGpus).SingleAsync());
            Assert.Equal(2, await db.JobQuotas.Where(q => q.AccountId == accountId && q.UserId == null).Select(q => q.Weight).SingleAsync());
        }

        var stranger = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Accounts/{accountId}/JobQuotas")).Status);
    }
}
