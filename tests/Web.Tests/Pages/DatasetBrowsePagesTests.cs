using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Datasets;

namespace Platform.Web.Tests.Pages;

/// <summary>Previews, zip buttons and the version comparison on the dataset page.</summary>
public sealed class DatasetBrowsePagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    [Fact]
    public async Task ClickingAFileName_ShowsItsPreviewBelowTheList_WithUserContentEncoded()
    {
        var browser = await app.NewUserAsync();
        var (id, userId) = await CreateAsync(browser, "previewed");
        await UploadAsync(userId, id, "data/people.csv", "name,note\n\"Doe, Jane\",<script>alert(1)</script>\n");
        await UploadAsync(userId, id, "notes.md", "# Hello <img src=x onerror=alert(2)>\n");
        await UploadAsync(userId, id, "img/cat.png", Png);
        await UploadAsync(userId, id, "evil.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(3)\"/>");

        var list = await browser.GetAsync($"/Datasets/{id}?v=draft");
        Assert.DoesNotContain("id=\"preview\"", list.Html);
        Assert.Contains($"href=\"/Datasets/{id}?v=draft&amp;preview=data%2Fpeople.csv#preview\"", list.Html);

        var csv = await browser.GetAsync($"/Datasets/{id}?v=draft&preview=data%2Fpeople.csv");
        var table = csv.Fragment("id=\"preview\"", "</section>");
        Assert.Contains("preview-table", table);
        Assert.Contains("<th scope=\"col\">name</th>", table);
        Assert.Contains("<td style=\"white-space: pre-wrap\">Doe, Jane</td>", table);
        Assert.Contains("<script>alert(1)</script>", table); // shown as text (Fragment decodes)...
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", csv.Html.Replace("&#x28;", "(").Replace("&#x29;", ")")); // ...because it was encoded
        Assert.DoesNotContain("<script>alert", csv.Html);

        var text = await browser.GetAsync($"/Datasets/{id}?v=draft&preview=notes.md");
        Assert.Contains("# Hello <img src=x onerror=alert(2)>", text.Fragment("<pre class=\"preview-text", "</pre>"));
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt;", text.Html.Replace("&#x28;", "(").Replace("&#x29;", ")").Replace("&#x3D;", "="));
        Assert.DoesNotContain("<img src=x", text.Html);

        var image = await browser.GetAsync($"/Datasets/{id}?v=draft&preview=img%2Fcat.png");
        Assert.Contains($"<img class=\"img-fluid border preview-image\" src=\"/api/v1/datasets/{id}/versions/draft/files/img/cat.png?inline=true\"", image.Html);

        var svg = await browser.GetAsync($"/Datasets/{id}?v=draft&preview=evil.svg");
        var none = svg.Fragment("id=\"preview\"", "</section>");
        Assert.Contains("preview-none", none);
        Assert.Contains("not previewed", none);
        Assert.DoesNotContain("<img", none);
        Assert.DoesNotContain("onload", svg.Html);

        var missing = await browser.GetAsync($"/Datasets/{id}?v=draft&preview=nope.txt");
        Assert.Equal(HttpStatusCode.OK, missing.Status);
        Assert.Contains("File 'nope.txt' was not found", missing.Text);
    }

    [Fact]
    public async Task ZipButtons_DownloadTheSelectedVersion_AndTheFilteredFolder()
    {
        var browser = await app.NewUserAsync();
        var (id, userId) = await CreateAsync(browser, "zips");
        await UploadAsync(userId, id, "train/a.txt", "a");

        var page = await browser.GetAsync($"/Datasets/{id}?v=draft");
        Assert.Contains($"href=\"/api/v1/datasets/{id}/versions/draft/archive\"", page.Html);
        Assert.Contains("Download all (.zip)", page.Text);
        Assert.DoesNotContain("download-prefix-zip", page.Html);

        var filtered = await browser.GetAsync($"/Datasets/{id}?v=draft&prefix=train/");
        Assert.Contains($"href=\"/api/v1/datasets/{id}/versions/draft/archive?prefix=train%2F\"", filtered.Html);
        Assert.Contains("Download “train/” (.zip)", filtered.Text);
    }

    [Fact]
    public async Task CompareVersions_ShowsCountsAndChanges_APageAtATime()
    {
        var browser = await app.NewUserAsync();
        var (id, userId) = await CreateAsync(browser, "compared");
        await UploadAsync(userId, id, "kept.txt", "same");
        await UploadAsync(userId, id, "edited.txt", "before");
        await UploadAsync(userId, id, "gone.txt", "bye");
        var before = await browser.GetAsync($"/Datasets/{id}");
        Assert.DoesNotContain("Compare versions", before.Text); // nothing published: nothing to compare yet
        await PublishAsync(userId, id);

        await using (var db = app.Db())
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""DELETE FROM "ArtifactFiles" f USING "ArtifactVersions" v WHERE f."VersionId" = v."Id" AND v."ArtifactId" = {id} AND v."Number" IS NULL AND f."Path" = 'gone.txt'""");
        }

        await UploadAsync(userId, id, "edited.txt", "after, longer");
        for (var i = 0; i < DatasetsDetailsPageSize + 5; i++)
        {
            await UploadAsync(userId, id, $"new/{i:D3}.txt", "n");
        }

        var page = await browser.GetAsync($"/Datasets/{id}");
        var form = page.Fragment("class=\"d-flex flex-wrap gap-2 align-items-end compare-form\"", "</form>");
        Assert.Contains("<option value=\"1\" selected=\"selected\">v1</option>", form);
        Assert.Contains("<option value=\"draft\" selected=\"selected\">Draft</option>", form);

        var diff = await browser.GetAsync($"/Datasets/{id}?from=1&to=draft");
        Assert.Contains($"From v1 to the draft: {DatasetsDetailsPageSize + 5} added 1 removed 1 changed 1 unchanged", diff.Text);
        var table = diff.Fragment("<table class=\"table table-sm align-middle diff\">", "</table>");
        Assert.Contains("<tr class=\"diff-changed\">", table);
        Assert.Contains("edited.txt", table);
        Assert.Contains("<tr class=\"diff-removed\">", table);
        Assert.DoesNotContain("kept.txt", table);
        var more = System.Text.RegularExpressions.Regex.Match(diff.Html, "<a class=\"btn btn-sm btn-outline-secondary diff-next\" href=\"([^\"]+)\"");
        Assert.True(more.Success, "a More changes link");

        var next = await browser.GetAsync(WebUtility.HtmlDecode(more.Groups[1].Value));
        var rest = next.Fragment("<table class=\"table table-sm align-middle diff\">", "</table>");
        Assert.Contains("new/104.txt", rest);
        Assert.DoesNotContain("edited.txt", rest);
        Assert.Contains("First changes", next.Text);
        Assert.DoesNotContain("More changes", next.Text);

        var bad = await browser.GetAsync($"/Datasets/{id}?from=1&to=9");
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("Version '9' was not found", bad.Text);
    }

    private const int DatasetsDetailsPageSize = Platform.Web.Pages.Datasets.DetailsModel.DiffPageSize;

    private async Task<(Guid Id, Guid UserId)> CreateAsync(Browser browser, string name)
    {
        var created = await browser.PostAsync("/Datasets?handler=Create", ("Input.Name", name), ("Input.Tags", ""));
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        await using var db = app.Db();
        var userId = await db.Users.Where(u => u.Email == browser.Email).Select(u => u.Id).SingleAsync();
        return (Guid.Parse(created.Location!.OriginalString["/Datasets/".Length..]), userId);
    }

    private Task UploadAsync(Guid userId, Guid datasetId, string path, string content) => UploadAsync(userId, datasetId, path, Encoding.UTF8.GetBytes(content));

    private async Task UploadAsync(Guid userId, Guid datasetId, string path, byte[] bytes)
    {
        using var scope = app.Factory.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<DatasetService>()
            .UploadAsync(userId, datasetId, path, new MemoryStream(bytes), bytes.Length);
        Assert.True(result.IsSuccess, result.Error?.Message);
    }

    private async Task PublishAsync(Guid userId, Guid datasetId)
    {
        using var scope = app.Factory.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<DatasetService>().PublishAsync(userId, datasetId);
        Assert.True(result.IsSuccess, result.Error?.Message);
    }
}
