using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

public sealed partial class AccessKeyPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task CreatedKey_IsShownOnce_ListedByPrefix_AndRevocable()
    {
        var browser = await app.NewUserAsync();

        var created = await browser.PostAsync("/Keys?handler=Create", ("Input.Name", "laptop"), ("Input.Scope", "read"), ("Input.ExpiresInDays", "30"));

        Assert.Equal(HttpStatusCode.OK, created.Status);
        var key = created.InputValue("new-key");
        Assert.NotNull(key);
        Assert.Matches(KeyPattern(), key);
        Assert.Contains("data-download-config", created.Html);
        Assert.Contains("data-api-url=\"http://localhost\"", created.Html);
        Assert.Contains("~/.config/platform/config.json", created.Text);
        Assert.Contains("$PLATFORM_CONFIG", created.Text);
        var prefix = key![..key.LastIndexOf('_')];

        var later = await browser.GetAsync("/Keys");
        Assert.DoesNotContain(key, later.Html);
        Assert.Null(later.InputValue("new-key"));
        Assert.Contains($"<code>{prefix}</code>", later.Html);
        Assert.Contains("laptop", later.Text);
        Assert.Contains(">active<", later.Html);

        Guid keyId;
        await using (var db = app.Db())
        {
            keyId = await db.AccessKeys.Where(k => k.Prefix == prefix).Select(k => k.Id).SingleAsync();
            Assert.NotNull(await db.AccessKeys.Where(k => k.Id == keyId).Select(k => k.ExpiresAt).SingleAsync());
        }

        var revoked = await browser.PostAsync("/Keys?handler=Revoke", ("keyId", keyId.ToString()));
        Assert.Equal(HttpStatusCode.Redirect, revoked.Status);
        var afterRevoke = await browser.GetAsync("/Keys");
        Assert.Contains("The key was revoked", afterRevoke.Text);
        Assert.Contains(">revoked<", afterRevoke.Html);
        await using (var db = app.Db())
        {
            Assert.NotNull(await db.AccessKeys.Where(k => k.Id == keyId).Select(k => k.RevokedAt).SingleAsync());
        }
    }

    [Fact]
    public async Task CreateKey_ResponseIsNotCached()
    {
        var browser = await app.NewUserAsync();
        var token = (await browser.GetAsync("/Keys")).AntiforgeryToken!;

        using var response = await browser.Client.PostAsync("/Keys?handler=Create", new FormUrlEncodedContent(
        [
            KeyValuePair.Create("Input.Name", "ci"), KeyValuePair.Create("Input.Scope", "full"),
            KeyValuePair.Create("Input.ExpiresInDays", "0"), KeyValuePair.Create("__RequestVerificationToken", token),
        ]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task CreateKey_WithoutAName_ShowsTheMessageBesideTheField()
    {
        var browser = await app.NewUserAsync();

        var page = await browser.PostAsync("/Keys?handler=Create", ("Input.Name", ""), ("Input.Scope", "full"), ("Input.ExpiresInDays", "90"));

        Assert.Contains("Name the key", page.FieldError("Input.Name"));
        Assert.Null(page.InputValue("new-key"));
    }

    [Fact]
    public async Task Keys_OfAnotherUser_CannotBeRevoked()
    {
        var owner = await app.NewUserAsync();
        var created = await owner.PostAsync("/Keys?handler=Create", ("Input.Name", "mine"), ("Input.Scope", "full"), ("Input.ExpiresInDays", "90"));
        var prefix = created.InputValue("new-key")![..created.InputValue("new-key")!.LastIndexOf('_')];
        await using var db = app.Db();
        var keyId = await db.AccessKeys.Where(k => k.Prefix == prefix).Select(k => k.Id).SingleAsync();

        var other = await app.NewUserAsync();
        var refused = await other.PostAsync("/Keys?handler=Revoke", ("keyId", keyId.ToString()));

        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
        Assert.Null(await db.AccessKeys.Where(k => k.Id == keyId).Select(k => k.RevokedAt).SingleAsync());
    }

    [GeneratedRegex("^plat_[0-9A-Za-z]{12}_[0-9A-Za-z]{40}$")]
    private static partial Regex KeyPattern();
}
