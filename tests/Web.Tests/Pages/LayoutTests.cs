using System.Net;
using Platform.Web.Navigation;

namespace Platform.Web.Tests.Pages;

public sealed class LayoutTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    public static TheoryData<string> Areas => [.. PlatformAreas.All.Where(a => a.Coming is not null).Select(a => a.Slug)];

    [Theory]
    [MemberData(nameof(Areas))]
    public async Task AreaNotBuiltYet_SaysWhatIsComing(string slug)
    {
        var browser = await app.NewUserAsync();
        var area = PlatformAreas.Find(slug)!;

        var page = await browser.GetAsync($"/{slug}");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("Coming to this platform", page.Text);
        Assert.Contains(area.Coming!, page.Text);
        Assert.Contains($"<title>{area.Name} · Platform</title>", page.Html);
    }

    [Fact]
    public async Task Layout_LinksEveryArea_TheAccountSwitcherAndAPostOnlySignOut()
    {
        var browser = await app.NewUserAsync(name: "Navigator");

        var page = await browser.GetAsync("/");

        foreach (var area in PlatformAreas.All)
        {
            Assert.Contains($"href=\"/{area.Slug}\"", page.Html);
        }

        Assert.Contains("action=\"/Accounts/Switch\"", page.Html);
        Assert.Contains("Navigator's workspace", page.Fragment("class=\"dropdown-menu dropdown-menu-end account-switcher\"", "</form>"));
        Assert.Matches("<form method=\"post\" class=\"m-0\" action=\"/Account/Logout\">", page.Html);
        Assert.Contains("href=\"/Keys\"", page.Html);
        Assert.Contains("href=\"/Account/Manage\"", page.Html);
        Assert.Contains("pip install ./Notebook/sdk", page.Text);
        Assert.Contains("plat whoami", page.Text);
        Assert.Matches("Platform <span class=\"font-monospace\">[0-9]", page.Html);
    }

    [Fact]
    public async Task UnknownAddress_GetsTheErrorPageWith404()
    {
        var browser = await app.NewUserAsync();

        var page = await browser.GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, page.Status);
        Assert.Contains("Nothing here", page.Text);
        Assert.Contains("Trace id", page.Text);
    }

    [Fact]
    public async Task HealthEndpoint_KeepsItsOwnBody()
    {
        using var response = await app.NewBrowser().Client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"status\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/lib/bootstrap/css/bootstrap.min.css")]
    [InlineData("/lib/bootstrap/js/bootstrap.bundle.min.js")]
    [InlineData("/lib/plotly/plotly.min.js")]
    [InlineData("/lib/signalr/signalr.min.js")]
    [InlineData("/lib/aspnet-client-validation/aspnet-validation.min.js")]
    [InlineData("/css/site.css")]
    [InlineData("/js/site.js")]
    public async Task FrontEndFiles_AreServed(string path)
    {
        using var response = await app.NewBrowser().Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 100);
    }
}
