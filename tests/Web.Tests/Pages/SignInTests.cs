using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

public sealed partial class SignInTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Login_WithTheRightPassword_RedirectsToTheReturnUrl()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);
        var browser = app.NewBrowser();

        var page = await browser.PostAsync("/Account/Login?returnUrl=%2FKeys", ("Input.Email", email), ("Input.Password", Browser.Password), ("ReturnUrl", "/Keys"));

        Assert.Equal(HttpStatusCode.Redirect, page.Status);
        Assert.Equal("/Keys", page.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Keys")).Status);
    }

    [Fact]
    public async Task Login_IgnoresAReturnUrlToAnotherSite()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);

        var page = await app.NewBrowser().PostAsync("/Account/Login", ("Input.Email", email), ("Input.Password", Browser.Password), ("ReturnUrl", "https://evil.example/"));

        Assert.Equal("/", page.Location?.OriginalString);
    }

    [Fact]
    public async Task Login_WithAWrongPasswordOrAnUnknownAddress_SaysTheSameGenericThing()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);

        var wrongPassword = await app.NewBrowser().LoginAsync(email, "wrong password 1");
        var unknownUser = await app.NewBrowser().LoginAsync(WebAppFixture.NewEmail("nobody"), "wrong password 1");

        foreach (var page in new[] { wrongPassword, unknownUser })
        {
            Assert.Equal(HttpStatusCode.OK, page.Status);
            Assert.Contains("Invalid e-mail or password.", page.Text);
        }
    }

    [Fact]
    public async Task Login_LocksTheUserOutAfterFiveFailures_EvenForTheRightPassword()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);
        var browser = app.NewBrowser();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.LoginAsync(email, $"wrong password {attempt}")).Status);
        }

        var fifth = await browser.LoginAsync(email, "wrong password 5");
        var rightPassword = await browser.LoginAsync(email);

        foreach (var page in new[] { fifth, rightPassword })
        {
            Assert.Equal(HttpStatusCode.Redirect, page.Status);
            Assert.StartsWith("/Account/Lockout?until=", page.Location?.OriginalString);
        }

        var lockout = await browser.GetAsync(rightPassword.Location!.OriginalString);
        Assert.Contains("Try again after", lockout.Text);
        Assert.Contains("in about 5 minutes", lockout.Text);
    }

    [Fact]
    public async Task Logout_SignsOutOnlyByPost()
    {
        var browser = await app.NewUserAsync();

        Assert.Contains("Sign out?", (await browser.GetAsync("/Account/Logout")).Text);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).Status);

        var signedOut = await browser.PostAsync("/Account/Logout", [], formPage: "/Account/Logout");

        Assert.Equal(HttpStatusCode.Redirect, signedOut.Status);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).Status);
    }

    [Fact]
    public async Task ForgotPassword_MailsALinkThatResetsThePasswordOnce()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);
        var browser = app.NewBrowser();

        var sent = await browser.PostAsync("/Account/ForgotPassword", ("Input.Email", email));
        Assert.Contains("If an account exists", sent.Text);
        var mail = await app.LastMailToAsync(email);
        var link = ResetLink().Match(mail.TextBody).Value;
        Assert.StartsWith("http://localhost/Account/ResetPassword?email=", link);

        var form = await browser.GetAsync(link);
        Assert.Contains("Choose a new password", form.Text);
        Assert.DoesNotContain("already been used", form.Text);
        const string newPassword = "a brand new secret 7";
        var reset = await browser.PostAsync(link, [KeyValuePair.Create("Input.Email", form.InputValue("Input_Email")!),
            KeyValuePair.Create("Input.Token", form.InputValue("Input_Token")!), KeyValuePair.Create("Input.Password", newPassword),
            KeyValuePair.Create("Input.ConfirmPassword", newPassword)]);
        Assert.Equal(HttpStatusCode.Redirect, reset.Status);
        Assert.Equal(HttpStatusCode.Redirect, (await app.NewBrowser().LoginAsync(email, newPassword)).Status);

        var again = await browser.GetAsync(link);
        Assert.Contains("This link has already been used or has expired", again.Text);
        Assert.Contains("href=\"/Account/ForgotPassword\"", again.Html);
        var reusedPost = await browser.PostAsync(link, [KeyValuePair.Create("Input.Email", email),
            KeyValuePair.Create("Input.Token", form.InputValue("Input_Token")!), KeyValuePair.Create("Input.Password", "yet another one 8"),
            KeyValuePair.Create("Input.ConfirmPassword", "yet another one 8")], formPage: "/Account/ForgotPassword");
        Assert.Contains("This link has already been used or has expired", reusedPost.Text);
    }

    [Fact]
    public async Task ForgotPassword_ForAnUnknownAddress_SaysTheSameAndSendsNothing()
    {
        var email = WebAppFixture.NewEmail("nobody");

        var page = await app.NewBrowser().PostAsync("/Account/ForgotPassword", ("Input.Email", email));

        Assert.Contains("If an account exists", page.Text);
        await using var db = app.Db();
        Assert.False(await db.Outbox.AnyAsync(m => m.To == email));
    }

    [Fact]
    public async Task Manage_ChangesThePassword_AndKeepsThisSessionSignedIn()
    {
        var email = WebAppFixture.NewEmail();
        var browser = await app.NewUserAsync(email);

        var wrong = await browser.PostAsync("/Account/Manage?handler=Password",
            ("Password.CurrentPassword", "not my password 1"), ("Password.NewPassword", "the next secret 9"), ("Password.ConfirmPassword", "the next secret 9"));
        Assert.Equal("The current password is not correct.", wrong.FieldError("Password.CurrentPassword"));

        var changed = await browser.PostAsync("/Account/Manage?handler=Password",
            ("Password.CurrentPassword", Browser.Password), ("Password.NewPassword", "the next secret 9"), ("Password.ConfirmPassword", "the next secret 9"));
        Assert.Equal(HttpStatusCode.Redirect, changed.Status);
        Assert.Contains("Your password was changed", (await browser.GetAsync("/Account/Manage")).Text);
        Assert.Equal(HttpStatusCode.Redirect, (await app.NewBrowser().LoginAsync(email, "the next secret 9")).Status);
    }

    [Fact]
    public async Task Manage_RenamesTheUser()
    {
        var browser = await app.NewUserAsync(name: "Old Name");

        var saved = await browser.PostAsync("/Account/Manage?handler=Profile", ("Profile.DisplayName", "New Name"));

        Assert.Equal(HttpStatusCode.Redirect, saved.Status);
        Assert.Contains("Welcome, New Name", (await browser.GetAsync("/")).Text);
    }

    [GeneratedRegex(@"http://localhost/Account/ResetPassword\?\S+")]
    private static partial Regex ResetLink();
}
