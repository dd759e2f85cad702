using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

/// <summary>The class's first user is the platform admin (registered once, before any test runs).</summary>
public sealed class AdminPagesTests(AdminPagesTests.AdminFixture app) : IClassFixture<AdminPagesTests.AdminFixture>
{
    public sealed class AdminFixture : IAsyncLifetime
    {
        public WebAppFixture Web { get; } = new();

        public Browser Admin { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Web.InitializeAsync();
            Admin = await Web.NewUserAsync(WebAppFixture.NewEmail("admin"), "The Admin");
        }

        public Task DisposeAsync() => Web.DisposeAsync();
    }

    [Theory]
    [InlineData("/Admin")]
    [InlineData("/Admin/Accounts")]
    [InlineData("/Admin/Outbox")]
    public async Task AdminPages_AreForbiddenToOrdinaryUsers(string path)
    {
        var user = await app.Web.NewUserAsync();

        var page = await user.GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, page.Status);
        Assert.Contains("You do not have access to this page", page.Text);
        Assert.DoesNotContain("href=\"/Admin\"", page.Html);
    }

    [Fact]
    public async Task Admin_SeesComponentHealthAndUsers()
    {
        var user = await app.Web.NewUserAsync(name: "Listed User");

        var page = await app.Admin.GetAsync($"/Admin?q={Uri.EscapeDataString(user.Email)}");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        foreach (var component in new[] { "api", "workers", "database", "storage" })
        {
            Assert.Contains($"data-component=\"{component}\"", page.Html);
        }

        Assert.Contains("border-success health-card\" data-component=\"database\"", page.Html);
        Assert.Contains("border-danger health-card\" data-component=\"api\"", page.Html);
        var found = page.Fragment("<table class=\"table align-middle users\">", "</table>");
        Assert.Contains(user.Email, found);
        Assert.Contains("Listed User", found);
        Assert.DoesNotContain(app.Admin.Email, found);
        var everyone = (await app.Admin.GetAsync("/Admin")).Fragment("<table class=\"table align-middle users\">", "</table>");
        Assert.Matches("The Admin\\s*<span class=\"badge text-bg-primary\">admin</span>", everyone);
    }

    [Fact]
    public async Task WithdrawingAdmin_TakesEffectOnTheNextRequest()
    {
        var user = await app.Web.NewUserAsync();
        var userId = await UserIdAsync(user.Email);

        await app.Admin.PostAsync("/Admin?handler=Admin", ("userId", userId.ToString()), ("grant", "true"));
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/Admin")).Status);

        await app.Admin.PostAsync("/Admin?handler=Admin", ("userId", userId.ToString()), ("grant", "false"));
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/Admin")).Status);
    }

    [Fact]
    public async Task InviteOnlyRegistration_BlocksOpenRegistration()
    {
        try
        {
            var saved = await app.Admin.PostAsync("/Admin?handler=Registration", ("mode", "invite-only"));
            Assert.Equal(HttpStatusCode.Redirect, saved.Status);

            var stranger = app.Web.NewBrowser();
            var form = await stranger.GetAsync("/Account/Register");
            Assert.Contains("Registration is by invitation", form.Text);
            Assert.DoesNotContain("Input.Password", form.Html);

            var email = WebAppFixture.NewEmail("blocked");
            var token = (await stranger.GetAsync("/Account/Login")).AntiforgeryToken!;
            using var response = await stranger.Client.PostAsync("/Account/Register", new FormUrlEncodedContent(
            [
                KeyValuePair.Create("Input.Email", email), KeyValuePair.Create("Input.DisplayName", "Blocked"),
                KeyValuePair.Create("Input.Password", Browser.Password), KeyValuePair.Create("Input.ConfirmPassword", Browser.Password),
                KeyValuePair.Create("__RequestVerificationToken", token),
            ]));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var db = app.Web.Db();
            Assert.False(await db.Users.AnyAsync(u => u.Email == email));
        }
        finally
        {
            await app.Admin.PostAsync("/Admin?handler=Registration", ("mode", "open"));
        }
    }

    [Fact]
    public async Task Outbox_ShowsMailForTheAdminToRead()
    {
        var user = await app.Web.NewUserAsync();
        await app.Web.NewBrowser().PostAsync("/Account/ForgotPassword", ("Input.Email", user.Email));

        var outbox = await app.Admin.GetAsync("/Admin/Outbox");

        Assert.Equal(HttpStatusCode.OK, outbox.Status);
        Assert.Contains("No SMTP server is configured", outbox.Text);
        Assert.Contains($"to {user.Email}", outbox.Text);
        Assert.Contains("Reset your Platform password", outbox.Text);
        Assert.Matches("<a href=\"http://localhost/Account/ResetPassword\\?email=[^\"&]+&amp;token=[\\w-]+\" rel=\"noreferrer\">", outbox.Html);
    }

    [Fact]
    public async Task Accounts_ListsAccountsWithTheirMasters()
    {
        var user = await app.Web.NewUserAsync(name: "Accountable");

        var page = await app.Admin.GetAsync("/Admin/Accounts?q=Accountable");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("Accountable's workspace", page.Text);
        Assert.Contains(user.Email, page.Text);
    }

    private async Task<Guid> UserIdAsync(string email)
    {
        await using var db = app.Web.Db();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }
}
