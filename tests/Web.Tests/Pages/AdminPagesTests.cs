using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Datasets;

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
    public async Task PublicCatalog_IsForSignedInUsers_UntilTheAdminOpensItToVisitors()
    {
        var owner = await app.Web.NewUserAsync();
        var ownerId = await UserIdAsync(owner.Email);
        var name = $"open-{Guid.NewGuid():N}"[..20];
        using (var scope = app.Web.Factory.Services.CreateScope())
        {
            var datasets = scope.ServiceProvider.GetRequiredService<DatasetService>();
            var created = await datasets.CreateAsync(ownerId, new CreateDatasetRequest(null, name, "Open data for all", "CC0-1.0", ["open"]));
            var bytes = "x,y\n1,2\n"u8.ToArray();
            Assert.True((await datasets.UploadAsync(ownerId, created.Value!.Id, "data.csv", new MemoryStream(bytes), bytes.Length)).IsSuccess);
            Assert.True((await datasets.PublishAsync(ownerId, created.Value.Id)).IsSuccess);
            Assert.True((await datasets.SetPublicAsync(ownerId, created.Value.Id, true)).IsSuccess);
        }

        var visitor = app.Web.NewBrowser();
        var closed = await visitor.GetAsync("/Datasets/Public");
        Assert.Equal(HttpStatusCode.Redirect, closed.Status);
        Assert.StartsWith("/Account/Login", closed.Location!.OriginalString.Replace("http://localhost", ""));

        var stranger = await app.Web.NewUserAsync();
        var signedIn = await stranger.GetAsync($"/Datasets/Public?q={name}");
        Assert.Equal(HttpStatusCode.OK, signedIn.Status);
        Assert.Contains(name, signedIn.Text);
        Assert.Contains("CC0-1.0", signedIn.Text);
        Assert.Matches($"<a [^>]*href=\"/Datasets/[0-9a-f-]{{36}}\"[^>]*>{name}</a>", signedIn.Html);

        var opened = await app.Admin.PostAsync("/Admin?handler=Catalog", ("anonymous", "true"), ("anonymous", "false"));
        Assert.Equal(HttpStatusCode.Redirect, opened.Status);
        Assert.Contains("Visitors who are not signed in can now list the public catalog", (await app.Admin.GetAsync("/Admin")).Text);
        Assert.Matches("id=\"catalog-anonymous\" value=\"true\" checked=\"checked\"", (await app.Admin.GetAsync("/Admin")).Html);
        try
        {
            var open = await visitor.GetAsync($"/Datasets/Public?q={name}");
            Assert.Equal(HttpStatusCode.OK, open.Status);
            Assert.Contains(name, open.Text);
            Assert.Contains("Sign in to open or download them", open.Text);
            Assert.DoesNotContain($">{name}</a>", open.Html);
            Assert.Equal(HttpStatusCode.Redirect, (await visitor.GetAsync("/Datasets")).Status);
        }
        finally
        {
            Assert.Equal(HttpStatusCode.Redirect, (await app.Admin.PostAsync("/Admin?handler=Catalog", ("anonymous", "false"))).Status);
        }

        Assert.DoesNotMatch("id=\"catalog-anonymous\" value=\"true\" checked", (await app.Admin.GetAsync("/Admin")).Html);
        Assert.Equal(HttpStatusCode.Redirect, (await visitor.GetAsync("/Datasets/Public")).Status);
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
