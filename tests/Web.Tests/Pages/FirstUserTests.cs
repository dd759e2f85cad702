using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Platform.Web.Tests.Pages;

/// <summary>A class of its own: "first" only means something in a database nobody else registers in.</summary>
public sealed class FirstUserTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Register_MakesTheFirstUserPlatformAdmin_AndTheSecondAnOrdinaryUser()
    {
        var first = await app.NewUserAsync(WebAppFixture.NewEmail("first"), "First");
        var second = await app.NewUserAsync(WebAppFixture.NewEmail("second"), "Second");

        await using var db = app.Db();
        var admins = await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Email!, u => u.IsPlatformAdmin);
        Assert.True(admins[first.Email]);
        Assert.False(admins[second.Email]);

        var firstHome = await first.GetAsync("/");
        Assert.Contains("href=\"/Admin\"", firstHome.Html);
        Assert.Contains("As the first user you are the platform admin", firstHome.Text);
        Assert.DoesNotContain("href=\"/Admin\"", (await second.GetAsync("/")).Html);
    }
}
