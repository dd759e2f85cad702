using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

public sealed class RegistrationTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Register_SignsInAndRedirectsHome()
    {
        var browser = app.NewBrowser();

        var response = await browser.RegisterAsync(WebAppFixture.NewEmail(), "Ada Lovelace");

        Assert.Equal("/", response.Location?.OriginalString);
        var home = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.Status);
        Assert.Contains("Welcome, Ada Lovelace", home.Text);
        Assert.Contains("Ada Lovelace's workspace", home.Text);
    }

    [Fact]
    public async Task Register_ShowsADuplicateAddressBesideTheEmailField()
    {
        var email = WebAppFixture.NewEmail();
        await app.NewUserAsync(email);

        var page = await app.NewBrowser().PostAsync("/Account/Register",
            ("Input.Email", email), ("Input.DisplayName", "Again"), ("Input.Password", Browser.Password), ("Input.ConfirmPassword", Browser.Password));

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("already exists", page.FieldError("Input.Email"));
        Assert.Equal("", page.FieldError("Input.Password"));
    }

    [Fact]
    public async Task Register_ShowsThePasswordRulesBesideThePasswordField()
    {
        var email = WebAppFixture.NewEmail();

        var page = await app.NewBrowser().PostAsync("/Account/Register",
            ("Input.Email", email), ("Input.DisplayName", "Weak"), ("Input.Password", "onlyletters"), ("Input.ConfirmPassword", "onlyletters"));

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("digit", page.FieldError("Input.Password"));
        await using var db = app.Db();
        Assert.False(await db.Users.AnyAsync(u => u.Email == email));
    }

    [Fact]
    public async Task Register_ShowsDataAnnotationMessages_WhenFieldsAreMissing()
    {
        var page = await app.NewBrowser().PostAsync("/Account/Register",
            ("Input.Email", "not an address"), ("Input.DisplayName", ""), ("Input.Password", "short1"), ("Input.ConfirmPassword", "other"));

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("Enter a valid e-mail address.", page.FieldError("Input.Email"));
        Assert.Equal("Enter your name as others should see it.", page.FieldError("Input.DisplayName"));
        Assert.Equal("The password needs at least 10 characters.", page.FieldError("Input.Password"));
        Assert.Equal("The two passwords differ.", page.FieldError("Input.ConfirmPassword"));
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_IsRefusedWith400()
    {
        var browser = app.NewBrowser();
        await browser.GetAsync("/Account/Login");

        using var response = await browser.Client.PostAsync("/Account/Login", new FormUrlEncodedContent(
            [KeyValuePair.Create("Input.Email", "a@example.org"), KeyValuePair.Create("Input.Password", Browser.Password)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The request could not be accepted", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/Keys")]
    [InlineData("/Accounts")]
    [InlineData("/Account/Manage")]
    [InlineData("/Admin")]
    [InlineData("/Deployments")]
    [InlineData("/Invitations/Accept")]
    public async Task Pages_SendStrangersToSignIn_ExceptThePublicOnes(string path)
    {
        var page = await app.NewBrowser().GetAsync(path);

        if (path == "/Invitations/Accept")
        {
            Assert.Equal(HttpStatusCode.OK, page.Status);
            return;
        }

        Assert.Equal(HttpStatusCode.Redirect, page.Status);
        Assert.StartsWith("http://localhost/Account/Login?ReturnUrl=", page.Location?.ToString());
    }

    [Theory]
    [InlineData("/Account/Login")]
    [InlineData("/Account/Register")]
    [InlineData("/Account/ForgotPassword")]
    [InlineData("/Account/ResetPassword")]
    [InlineData("/Account/AccessDenied")]
    [InlineData("/Account/Lockout")]
    [InlineData("/Catalog")]
    [InlineData("/Catalog/development")]
    public async Task PublicPages_OpenWithoutSigningIn(string path)
    {
        var page = await app.NewBrowser().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, page.Status);
    }
}
